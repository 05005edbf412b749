from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from audit import views as audit_views
from billing import api_urls as billing_api
from billing.views import webhooks as billing_webhooks
from committee import api_urls as committee_api
from credex import api, views
from enrollment import api_urls as enrollment_api
from exchange import api_urls as exchange_api
from roster.api import urls as roster_api
from screening import api_urls as screening_api
from screening.nppes import api_urls as nppes_api
from verifications.api import urls as verifications_api

org_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.organization_settings, name="organization_settings"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<uuid:member_id>/role/", views.member_role, name="member_role"),
    path("settings/members/<uuid:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/<uuid:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    re_path(r"^audit/export\.(?P<fmt>csv|jsonl)$", audit_views.audit_export, name="audit_export"),
    path("", include("roster.urls")),
    path("enrollments/", include("enrollment.urls")),
    path("committee/", include("committee.urls")),
    path("screening/", include("screening.urls")),
    # Payer contacts are enrollment's; their pages kept the URLs they had under packages/.
    path("packages/contacts/", include("enrollment.contact_urls")),
    path("", include("verifications.urls")),
    path("exchange/", include("exchange.urls")),
    path("billing/", include("billing.urls")),
]

api_patterns = [
    path("me", api.MeView.as_view(), name="api_me"),
    path("organization", api.OrganizationView.as_view(), name="api_organization"),
    path("members", api.MemberListView.as_view(), name="api_members"),
    path("members/<uuid:member_id>", api.MemberDetailView.as_view(), name="api_member"),
    path(
        "members/<uuid:member_id>/removal-preview",
        api.MemberRemovalPreviewView.as_view(),
        name="api_member_removal_preview",
    ),
    path("invitations", api.InvitationListView.as_view(), name="api_invitations"),
    path(
        "invitations/<uuid:invitation_id>",
        api.InvitationDetailView.as_view(),
        name="api_invitation",
    ),
    path("api-keys", api.ApiKeyListView.as_view(), name="api_keys_list"),
    path("api-keys/<uuid:key_id>", api.ApiKeyDetailView.as_view(), name="api_key"),
    path("audit/events", api.AuditEventListView.as_view(), name="api_audit_events"),
    *roster_api.urlpatterns,
    *enrollment_api.urlpatterns,
    *committee_api.urlpatterns,
    *screening_api.urlpatterns,
    *nppes_api.urlpatterns,
    *verifications_api.urlpatterns,
    *exchange_api.urlpatterns,
    *billing_api.urlpatterns,
]

# Redoc injects its styles at run time and runs its search index in a blob: worker: the only
# page whose policy allows inline style. Script stays 'self' only.
api_docs = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api_schema")
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("orgs/new/", views.organization_new, name="organization_new"),
    path("expiring/", include("roster.cross_org_urls")),
    path("clients/", include("billing.client_urls")),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("u/", include("roster.public_urls")),
    path("p/", include("verifications.public_urls")),
    path("r/", include("exchange.public_urls")),
    path("operator/exchange/", include("exchange.operator_urls")),
    path("pricing/", include("billing.public_urls")),
    path("webhooks/stripe", billing_webhooks.stripe_webhook, name="stripe_webhook"),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("admin/", admin.site.urls),
]

handler400 = "credex.api_common.bad_request"
handler403 = "credex.api_common.permission_denied"
handler404 = "credex.api_common.not_found"
handler500 = "credex.api_common.server_error"
