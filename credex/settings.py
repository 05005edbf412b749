"""CredEx settings: one env-driven module. No environment at all gives the embedded default.

Every value that differs between machines comes from an environment variable read through
the small typed helpers below, which fail loudly on a malformed value.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from a postgres:// URL (host may be a socket dir in ?host=)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"Only postgres:// URLs are supported, not {parsed.scheme!r}.")
    query = parse_qs(parsed.query)
    host = unquote(parsed.hostname or "") or query.get("host", [""])[0]
    options = {k: v[0] for k, v in query.items() if k not in {"host"}}
    # libpq waits forever for a host that does not answer; a request should get its 503
    # (credex/unavailable.py) in seconds instead.
    options.setdefault("connect_timeout", str(env_int("DATABASE_CONNECT_TIMEOUT", 5)))
    return {
        "ENGINE": "credex.pgbackend",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
        # Tests build their database through the owner connection (tests/conftest.py).
        "TEST": {"NAME": None},
    }


# --- core -----------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
EMBEDDED = not os.environ.get("DATABASE_URL")

_secret = env_str("DJANGO_SECRET_KEY")
if not _secret:
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DATABASE_URL is set.")
    # Embedded default: a key generated once and kept in the git-ignored data folder.
    from credex import embedded

    key_file = embedded.data_dir() / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    _secret = key_file.read_text().strip()
SECRET_KEY = _secret

# Keys for protected fields (DOB, SSN): comma-separated Fernet keys, newest first.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not FIELD_ENCRYPTION_KEYS:
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DATABASE_URL is set.")
    from credex import embedded

    _fkey = embedded.data_dir() / "field_encryption_key"
    if not _fkey.exists():
        from cryptography.fernet import Fernet

        _fkey.write_text(Fernet.generate_key().decode())
        _fkey.chmod(0o600)
    FIELD_ENCRYPTION_KEYS = [_fkey.read_text().strip()]
for _key in FIELD_ENCRYPTION_KEYS:
    from cryptography.fernet import Fernet

    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes, 44 characters ending in '=')."
        )


def receipt_keys(raw: str, name: str = "EXCHANGE_RECEIPT_KEYS") -> list[tuple[str, str]]:
    """Exchange receipt signing keys: "kid1:<base64 32-byte Ed25519 seed>,kid0:..." as
    [(key id, seed b64)], the first the active signer, the others still verifying. Unset:
    one key generated once and kept in the data folder (the embedded default); unset with
    DATABASE_URL: none, and issuing a receipt refuses loudly (published keys still verify)."""
    import base64
    import binascii
    import re

    raw = raw.strip()
    if not raw:
        if not EMBEDDED and not DEBUG:
            return []
        from credex import embedded

        seed_file = embedded.data_dir() / "exchange_receipt_key"
        if not seed_file.exists():
            import secrets

            kid = "local-" + secrets.token_hex(4)
            seed_file.write_text(f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}")
            seed_file.chmod(0o600)
        raw = seed_file.read_text().strip()
    keys, seen = [], set()
    for item in (part.strip() for part in raw.split(",")):
        kid, _, seed = item.partition(":")
        kid, seed = kid.strip(), seed.strip()
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", kid) or kid in seen:
            raise ImproperlyConfigured(
                f"{name}: each key is 'id:seed' with a unique id of letters, digits, '.', '_' "
                "or '-' (at most 40)."
            )
        try:
            decoded = base64.b64decode(seed, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != 32:
            # Never echo the value: it is a private key.
            raise ImproperlyConfigured(f"{name}: key {kid!r} is not a base64 32-byte seed.")
        seen.add(kid)
        keys.append((kid, seed))
    return keys


EXCHANGE_RECEIPT_KEYS = receipt_keys(env_str("EXCHANGE_RECEIPT_KEYS"))

# Billing (docs/billing.md). Without STRIPE_SECRET_KEY billing runs offline: plans, trials,
# seats, invoices and payouts are records and charges are "not collected"; no code path needs
# the internet. STRIPE_API_BASE points the SDK elsewhere (tests: a loopback server).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# The Connect endpoint's signing secret (sellers' `account.updated`), when it has its own.
STRIPE_CONNECT_WEBHOOK_SECRET = env_str("STRIPE_CONNECT_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# Seconds a seat sync waits after a roster change, so a burst of changes is one update.
BILLING_SEAT_SYNC_DEBOUNCE_SECONDS = env_int("BILLING_SEAT_SYNC_DEBOUNCE_SECONDS", 300)
# Days after a failed payment before the organization becomes read-only.
BILLING_GRACE_DAYS = env_int("BILLING_GRACE_DAYS", 14)
# Dunning e-mails, in days after the first failure.
BILLING_DUNNING_DAYS = (0, 3, 7)
# Trial banners, in days left.
BILLING_TRIAL_BANNER_DAYS = (7, 3, 1)
# A payout on request needs at least this much available.
BILLING_PAYOUT_MINIMUM_CENTS = env_int("BILLING_PAYOUT_MINIMUM_CENTS", 2500)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if not EMBEDDED and not DEBUG and not os.environ.get("DJANGO_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DATABASE_URL is set.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("CREDEX_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_celery_beat",
    "credex",
    "audit",
    "roster",
    "verifications",
    "enrollment",
    "committee",
    "screening",
    "screening.nppes",
    "exchange",
    "billing",
    "demo",  # on top of every domain app; nothing imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response that has none yet (downloads set a stricter
    # sandbox policy themselves; the API docs view relaxes it for Redoc only).
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Before any view (and CSRF's process_view) reads input: control characters, JSON depth,
    # body size (credex/hostile.py).
    "credex.hostile.HostileInputMiddleware",
    "credex.middleware.TenantMiddleware",
    # axes last, as its docs require
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "credex.urls"
WSGI_APPLICATION = "credex.wsgi.application"
AUTH_USER_MODEL = "credex.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "credex.context_processors.tenant",
                "billing.context_processors.billing_banner",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------
# DATABASE_URL is the application's connection: a role that is neither superuser nor
# BYPASSRLS. DATABASE_OWNER_URL owns the schema and runs migrations (`db_bootstrap`).
if EMBEDDED:
    from credex import embedded

    _owner_url, _app_url = embedded.postgres_urls()
else:
    _app_url = env_str("DATABASE_URL")
    _owner_url = env_str("DATABASE_OWNER_URL", _app_url)

DATABASES = {
    "default": database_from_url(_app_url),
    "owner": database_from_url(_owner_url),
}
DATABASES["owner"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis / celery -------------------------------------------------------------------
if os.environ.get("REDIS_URL"):
    REDIS_URL = env_str("REDIS_URL")
elif not EMBEDDED:
    raise ImproperlyConfigured("REDIS_URL must be set when DATABASE_URL is set.")
else:
    from credex import embedded

    REDIS_URL = embedded.redis_url()

# kombu spells a unix-socket Redis "redis+socket://" (redis-py and Django say "unix://").
_CELERY_REDIS = (
    "redis+socket://" + REDIS_URL[len("unix://") :]
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
# The broker may be RabbitMQ (CELERY_BROKER_URL=amqp://...) where losing a queued message is
# unacceptable; Redis stays the result backend and the cache (docs/production.md).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or _CELERY_REDIS
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or _CELERY_REDIS
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
# Redis redelivers a message nobody acknowledged (the worker was killed) after the visibility
# timeout. The longest job tasks (a screening run of 100,000 providers, a 50 MB import) take
# minutes; a task that outlives it is delivered again and the duplicate is refused by the
# job's lock (every job task is idempotent). The reconciler (credex/jobs.py) catches what is
# lost before that. RabbitMQ ignores the Redis options.
QUEUE_VISIBILITY_TIMEOUT = env_int("QUEUE_VISIBILITY_TIMEOUT", 1800)
# Short timeouts: a request that publishes a task must answer in a second or two when Redis
# is down (503 "the job queue is unavailable"), not hold a web thread for 20 s.
QUEUE_CONNECT_TIMEOUT = env_int("QUEUE_CONNECT_TIMEOUT", 2)
QUEUE_SOCKET_TIMEOUT = env_int("QUEUE_SOCKET_TIMEOUT", 5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": QUEUE_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": QUEUE_CONNECT_TIMEOUT,
    "socket_timeout": QUEUE_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = QUEUE_CONNECT_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = QUEUE_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = QUEUE_SOCKET_TIMEOUT
# `.delay()` subscribes to the task's result channel first; with Redis down the default
# policy retries that 20 times a second apart (the 19 s a request hung). Two quick retries.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _redis_db(url: str, db: int) -> str:
    """The same Redis server, another database (the cache must not share the broker's)."""
    if url.startswith("unix://"):
        return url.split("?", 1)[0] + f"?db={db}"
    parsed = urlparse(url)
    return parsed._replace(path=f"/{db}").geturl()


CACHES = {
    "default": {
        # Fails open when Redis is down (credex/cache.py says why that is safe here).
        "BACKEND": "credex.cache.FailOpenRedisCache",
        "LOCATION": env_str("CACHE_URL") or _redis_db(REDIS_URL, 1),
        # A cache that is down answers in a second, never holds a request for long.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# --- auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CredEx] "
ACCOUNT_RATE_LIMITS = {"login_failed": None}  # axes owns lockout
ACCOUNT_ADAPTER = "credex.auth.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CredEx"
MFA_ADAPTER = "credex.auth.MFAAdapter"

# Lock by username *and* IP together with a cool-off (axes' default locks by IP forever).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "credex.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_IP_HEADERS", ["REMOTE_ADDR"])

INVITATION_MAX_AGE = timedelta(days=7)

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "credex.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["credex.permissions.HasCapability"],
    "DEFAULT_SCHEMA_CLASS": "credex.api_schema.CredexAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "credex.api_common.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "credex.api_common.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "1200/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# The API's areas (name, description), in the order Redoc lists them; credex/api_schema.py
# tags each operation with one, from its URL.
API_TAGS = [
    ("organization", "The caller, the organization in context and its settings."),
    ("members", "Members of the organization, their roles and invitations."),
    ("API keys", "Per-organization API keys (the key is shown once, when created)."),
    ("providers", "The provider roster: add, change, read (audited) and reveal protected fields."),
    ("credentials", "Licences, certificates and other credentials, with their expiry dates."),
    ("documents", "Documents in a provider's file: upload, download and review."),
    ("extractions", "Values read from uploaded documents, to approve, correct or reject."),
    ("imports", "CSV (and documents ZIP) imports of providers and credentials."),
    ("inbox", "The coordinator's inbox: resolve, dismiss, snooze and undo."),
    ("verifications", "Primary-source verifications: the PSV log, requests, queue and evidence."),
    ("packets", "Re-verification packets, one provider or everyone due."),
    ("screening", "Exclusion screening: runs, hits, list versions and SAM.gov checks."),
    ("NPPES", "NPPES look-ups, refreshes and differences with the roster."),
    ("committee", "Credentialing committee reviews and decisions."),
    ("payers", "Payers, their contacts and contracts."),
    ("enrollments", "Enrollment applications of providers with payers."),
    ("packages", "Credential packages (PDF) and the links that share them with payers."),
    ("audit", "The audit log."),
    (
        "exchange",
        "The verification exchange: membership, listings, purchases, receipts, after the trade.",
    ),
    ("billing", "Plan, seats, invoices, the exchange statement and payouts."),
]


SPECTACULAR_SETTINGS = {
    "TITLE": "CredEx API",
    "DESCRIPTION": "Credentialing and verification exchange API. Authenticate with "
    "`Authorization: Api-Key <key>` (per-organization keys) or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI / Redoc served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations grouped by area (credex/api_schema.py tags each one from its URL).
    "TAGS": [{"name": n, "description": d} for n, d in API_TAGS],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "credex.models.Role",
        "ApiKeyRoleEnum": ["admin", "coordinator", "auditor"],
        "ProviderStatusEnum": "roster.models.ProviderStatus",
        "CredentialKindEnum": "roster.models.CredentialKind",
        "CredentialStatusEnum": "roster.models.CredentialStatus",
        "DocumentKindEnum": "roster.models.DocumentKind",
        "DocumentStatusEnum": "roster.models.DocumentStatus",
        "DocumentReviewDecisionEnum": ["accept", "reject"],
        "InboxKindEnum": "roster.models.InboxKind",
        "InboxStatusEnum": "roster.models.InboxStatus",
        "EnrollmentStatusEnum": "enrollment.models.EnrollmentStatus",
        "CommitteeDecisionEnum": "committee.models.CommitteeDecision",
        "ImportStatusEnum": "roster.models.ImportStatus",
        "ScreeningSourceEnum": "screening.models.Source",
        "DatasetKindEnum": "screening.models.DatasetKind",
        "ScreeningRunTriggerEnum": "screening.models.RunTrigger",
        "ScreeningRunStatusEnum": "screening.models.RunStatus",
        "HitKindEnum": "screening.models.HitKind",
        "HitStatusEnum": "screening.models.HitStatus",
        "ScreeningOutcomeEnum": "screening.models.ResultOutcome",
        "NppesCheckOutcomeEnum": "screening.nppes.models.CheckOutcome",
        "NppesMismatchFieldEnum": "screening.nppes.models.MismatchField",
        "NppesSeverityEnum": "screening.nppes.models.Severity",
        "NppesMismatchStatusEnum": "screening.nppes.models.MismatchStatus",
        "NppesRunStatusEnum": "screening.nppes.models.RunStatus",
        "VerificationSourceEnum": "verifications.models.VerificationSource",
        "VerificationMethodEnum": "verifications.models.VerificationMethod",
        "VerificationResultEnum": "verifications.models.VerificationResult",
        "VerifierKindEnum": "verifications.models.VerifierKind",
        "VerificationRequestStatusEnum": "verifications.models.RequestStatus",
        "PacketStatusEnum": "verifications.models.PacketStatus",
        "PacketStepKindEnum": "verifications.models.PacketStepKind",
        "PacketStepStatusEnum": "verifications.models.StepStatus",
        "SuggestionStatusEnum": "verifications.models.SuggestionStatus",
        "PackageStatusEnum": "verifications.models.PackageStatus",
    },
}

# --- external data sources (base URLs are settings; tests point them at loopback) ------------
NPPES_BASE_URL = env_str("NPPES_BASE_URL", "https://npiregistry.cms.hhs.gov")
NPPES_RATE_LIMIT_PER_SECOND = env_int("NPPES_RATE_LIMIT_PER_SECOND", 10)
NPPES_CONCURRENCY = env_int("NPPES_CONCURRENCY", 8)
NPPES_TIMEOUT_SECONDS = env_int("NPPES_TIMEOUT_SECONDS", 10)
# Retries on 5xx, 429, connection errors and timeouts (never on other 4xx), exponential
# backoff from NPPES_BACKOFF_SECONDS with jitter; the nightly refresh retries errors next night.
NPPES_MAX_RETRIES = env_int("NPPES_MAX_RETRIES", 3)
NPPES_BACKOFF_SECONDS = float(env_str("NPPES_BACKOFF_SECONDS", "0.5"))
OIG_LEIE_URL = env_str("OIG_LEIE_URL", "https://oig.hhs.gov/exclusions/downloadables/UPDATED.csv")
SAM_EXTRACT_URL = env_str("SAM_EXTRACT_URL", "")
SAM_API_BASE_URL = env_str("SAM_API_BASE_URL", "https://api.sam.gov")
# The on-demand SAM check of one provider (screening.sam_api): short timeouts, few pages (a
# personal SAM.gov key allows few requests a day). The key itself is SAM_API_KEY below.
SAM_API_TIMEOUT_SECONDS = env_int("SAM_API_TIMEOUT_SECONDS", 10)
SAM_API_MAX_PAGES = env_int("SAM_API_MAX_PAGES", 3)
# Payer share links for credential packages (days until a link stops working).
PACKAGE_SHARE_MAX_AGE_DAYS = env_int("PACKAGE_SHARE_MAX_AGE_DAYS", 14)
# Document extraction: OCR through tesseract when the binary is on PATH (or at this path).
TESSERACT_CMD = env_str("TESSERACT_CMD", "tesseract")
OCR_ENABLED = env_bool("OCR_ENABLED", True)
SAM_API_KEY = env_str("SAM_API_KEY", "")
# Daily e-mail digest of each coordinator's inbox items due within 30 days (roster.inbox.digest).
INBOX_DIGEST_ENABLED = env_bool("INBOX_DIGEST_ENABLED", False)

# --- files, e-mail ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/media/"
# Documents (roster): the largest upload accepted, and how long a provider upload link works.
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
UPLOAD_LINK_MAX_AGE_DAYS = env_int("UPLOAD_LINK_MAX_AGE_DAYS", 14)
# The exchange: how long a clinician release e-signature link works (days).
RELEASE_MAX_AGE_DAYS = env_int("RELEASE_MAX_AGE_DAYS", 14)

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage",
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CredEx <no-reply@credex.local>")

# --- security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
CSRF_FAILURE_VIEW = "credex.api_common.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
_secure = env_bool("SECURE_COOKIES", not DEBUG and not EMBEDDED)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if EMBEDDED or DEBUG else 31536000)
# Only behind a proxy that sets (and strips client-sent) X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)

# Content-Security-Policy (django-csp): only our own origin, and no inline script or style at
# all: behaviour lives in static/js/ and is declared with data- attributes, htmx is configured
# not to insert styles or evaluate code (templates/base.html). data: images are the empty
# favicon and allauth's TOTP QR code. tests/test_csp.py scans the templates for inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        "credex": {"level": env_str("LOG_LEVEL", "INFO")},
        "pgserver": {"level": "WARNING"},
    },
}

# Serve static files straight from the source folders when there is no collectstatic step
# (embedded default and DEBUG); production images run collectstatic.
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root on every start
WHITENOISE_AUTOREFRESH = DEBUG
