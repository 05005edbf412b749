"""Permission-matrix part: verifications (credential packages, shares, payer contacts)."""

BODIES: dict = {
    ("api_provider_packages", "POST"): {},
    ("api_package_shares", "POST"): {"email": "matrix@payer.example", "days": 7},
    ("api_share_revoke", "POST"): {},
    ("api_payer_contacts", "POST"): {"name": "Matrix Contact", "email": "mc@payer.example"},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    """A ready package (built the production way) with one active share, and a payer contact."""
    from credex.tenancy import tenant_context
    from enrollment.models import Payer
    from enrollment.services import payer_contact_add
    from roster.models import Provider
    from verifications.services.packages import package_build, package_request
    from verifications.services.shares import share_create

    owner = tenant.membership(tenant.owner)
    with tenant_context(tenant.org):
        provider = Provider.objects.get(pk=base["provider_id"])
        payer = Payer.objects.get(pk=base["payer_id"])
        package = package_request(org=tenant.org, actor=owner, provider=provider)
        package_build(org=tenant.org, package_id=package.pk)
        package.refresh_from_db()
        assert package.status == "ready", package.error
        contact = payer_contact_add(
            org=tenant.org, actor=owner, payer=payer, name="Pat Payer", email="pat@payer.example"
        )
        share = share_create(org=tenant.org, actor=owner, package=package, contact=contact, days=7)
    return {"package_id": package.pk, "share_id": share.pk, "contact_id": contact.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from enrollment.models import PayerContact
    from verifications.models import CredentialPackage, PackageShare

    with tenant_context(org):
        return {
            "packages": sorted(CredentialPackage.objects.values_list("id", "status")),
            "shares": sorted(PackageShare.objects.values_list("id", "revoked_at")),
            "payer_contacts": sorted(PayerContact.objects.values_list("id", "email")),
        }
