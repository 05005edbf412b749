"""Row-level security for the exchange: the policies that say what crosses organizations.

- Private tenant tables (applications, accreditations, releases, requirements, batches): the
  standard organization policy; the exchange operator reads applications and accreditations
  on the platform path.
- Listings: readable by every organization with an approved membership (asked of the global
  member directory) and on the platform path; written only by the seller.
- Orders, receipts, ratings and disputes: the buyer's rows, readable by the seller
  (`seller_organization_id`) and on the platform path.
- Price votes: the member's own; the market rate reads every vote on the platform path.
The seller's verifications and evidence keep their own organization-only policy.
"""

from django.db import migrations

from credex.db import PLATFORM_PATH_SQL, EnableRLS, SameOrgForeignKey

# A plain SQL function over the global directory (no RLS there), so a policy can ask it
# without recursing into the private membership table's own policy.
MEMBER_FUNCTION = """
CREATE OR REPLACE FUNCTION exchange_current_org_is_member() RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM exchange_memberdirectory
        WHERE member_id = credex_current_org() AND status = 'approved'
    )
$$;
"""
DROP_MEMBER_FUNCTION = "DROP FUNCTION IF EXISTS exchange_current_org_is_member();"

SELLER_READS = f"seller_organization_id = credex_current_org() OR {PLATFORM_PATH_SQL}"

POLICIES = [
    ("ExchangeMembership", PLATFORM_PATH_SQL),
    ("Accreditation", PLATFORM_PATH_SQL),
    ("ClinicianRelease", None),
    ("Listing", f"exchange_current_org_is_member() OR {PLATFORM_PATH_SQL}"),
    ("ListingBatch", None),
    ("RequirementsProfile", None),
    ("RequirementRule", None),
    ("PriceVote", PLATFORM_PATH_SQL),
    ("Order", SELLER_READS),
    ("Receipt", SELLER_READS),
    ("Rating", SELLER_READS),
    ("Dispute", SELLER_READS),
]

SAME_ORG = [
    ("ExchangeMembership", "attested_by", "credex.Membership"),
    ("Accreditation", "membership", "exchange.ExchangeMembership"),
    ("Accreditation", "recorded_by", "credex.Membership"),
    ("ClinicianRelease", "provider", "roster.Provider"),
    ("ClinicianRelease", "recorded_by", "credex.Membership"),
    ("Listing", "verification", "verifications.Verification"),
    ("Listing", "provider", "roster.Provider"),
    ("Listing", "created_by", "credex.Membership"),
    ("ListingBatch", "requested_by", "credex.Membership"),
    ("RequirementsProfile", "updated_by", "credex.Membership"),
    ("RequirementRule", "profile", "exchange.RequirementsProfile"),
    ("PriceVote", "voted_by", "credex.Membership"),
    ("Order", "provider", "roster.Provider"),
    ("Order", "verification", "verifications.Verification"),
    ("Order", "bought_by", "credex.Membership"),
    ("Receipt", "order", "exchange.Order"),
    ("Rating", "order", "exchange.Order"),
    ("Rating", "rated_by", "credex.Membership"),
    ("Dispute", "order", "exchange.Order"),
    ("Dispute", "opened_by", "credex.Membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_initial"),
        ("credex", "0007_user_is_exchange_operator"),
    ]

    operations = [
        migrations.RunSQL(MEMBER_FUNCTION, DROP_MEMBER_FUNCTION),
        *[EnableRLS(f"exchange.{m}", read_also=extra) for m, extra in POLICIES],
        *[SameOrgForeignKey(f"exchange.{m}", f, to) for m, f, to in SAME_ORG],
    ]
