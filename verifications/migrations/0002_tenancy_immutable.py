from django.db import migrations

from credex.db import EnableRLS, SameOrgForeignKey

TENANT_MODELS = [
    "Verification", "VerificationEvidence", "VerificationRequest", "ReverificationPacket",
    "PacketStep", "ExtractionSuggestion", "CredentialPackage", "PayerContact", "PackageShare",
]

SAME_ORG = [
    ("Verification", "provider", "roster.Provider"),
    ("Verification", "credential", "roster.Credential"),
    ("Verification", "supersedes", "verifications.Verification"),
    ("Verification", "request", "verifications.VerificationRequest"),
    ("VerificationEvidence", "verification", "verifications.Verification"),
    ("VerificationRequest", "provider", "roster.Provider"),
    ("VerificationRequest", "credential", "roster.Credential"),
    ("VerificationRequest", "assigned_to", "credex.Membership"),
    ("VerificationRequest", "packet", "verifications.ReverificationPacket"),
    ("VerificationRequest", "created_by", "credex.Membership"),
    ("ReverificationPacket", "provider", "roster.Provider"),
    ("ReverificationPacket", "started_by", "credex.Membership"),
    ("ReverificationPacket", "upload_link", "roster.UploadLink"),
    ("PacketStep", "packet", "verifications.ReverificationPacket"),
    ("PacketStep", "request", "verifications.VerificationRequest"),
    ("PacketStep", "verification", "verifications.Verification"),
    ("ExtractionSuggestion", "document", "roster.Document"),
    ("ExtractionSuggestion", "credential", "roster.Credential"),
    ("ExtractionSuggestion", "decided_by", "credex.Membership"),
    ("CredentialPackage", "provider", "roster.Provider"),
    ("CredentialPackage", "requested_by", "credex.Membership"),
    ("PayerContact", "payer", "roster.Payer"),
    ("PackageShare", "package", "verifications.CredentialPackage"),
    ("PackageShare", "contact", "verifications.PayerContact"),
    ("PackageShare", "created_by", "credex.Membership"),
    ("PackageShare", "revoked_by", "credex.Membership"),
]

# Verification records and their evidence are immutable: a correction is a new record that
# supersedes the old one. Plain triggers (not switchable per session) refuse UPDATE and DELETE
# for every role, the owner included.
IMMUTABLE = """
CREATE OR REPLACE FUNCTION verifications_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'verification records are immutable: % on % refused (supersede instead)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER verification_immutable BEFORE UPDATE OR DELETE ON verifications_verification
    FOR EACH ROW EXECUTE FUNCTION verifications_reject_change();
CREATE TRIGGER evidence_immutable BEFORE UPDATE OR DELETE ON verifications_verificationevidence
    FOR EACH ROW EXECUTE FUNCTION verifications_reject_change();
"""
MUTABLE = """
DROP TRIGGER IF EXISTS evidence_immutable ON verifications_verificationevidence;
DROP TRIGGER IF EXISTS verification_immutable ON verifications_verification;
DROP FUNCTION IF EXISTS verifications_reject_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0001_initial"),
        ("roster", "0002_tenancy_and_nucc"),
        ("credex", "0002_tenancy_rls"),
    ]

    operations = [
        *[EnableRLS(f"verifications.{m}") for m in TENANT_MODELS],
        *[SameOrgForeignKey(f"verifications.{m}", f, to) for m, f, to in SAME_ORG],
        migrations.RunSQL(IMMUTABLE, MUTABLE),
    ]
