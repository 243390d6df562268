"""One settings module for every environment, driven by environment variables.

CLOUDKIDA_ENV picks a profile: ``local`` (the default, used by ``make run``), ``test`` (pytest) or
``production`` (Lambda). Production refuses to start with unsafe defaults: see ``_check_production``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# pytest (which sets PYTEST_VERSION) runs the test profile unless told otherwise, so a bare `pytest` works.
ENV = os.environ.get("CLOUDKIDA_ENV") or ("test" if os.environ.get("PYTEST_VERSION") else "local")
if ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured(f"CLOUDKIDA_ENV must be local, test or production, not {ENV!r}")
IS_PRODUCTION = ENV == "production"

_INSECURE_KEY = "django-insecure-local-development-key-never-use-in-production"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


# Where `make run` writes the address of the local AWS emulator it started (see scripts/localaws.py).
LOCAL_STATE_DIR = Path(_env("CLOUDKIDA_LOCAL_STATE_DIR", str(BASE_DIR / ".local")))


def _local_aws_endpoint() -> str | None:
    """The moto server endpoint `make run` recorded, if any (local profile only)."""
    state = LOCAL_STATE_DIR / "localaws.json"
    if ENV != "local" or not state.exists():
        return None
    return json.loads(state.read_text())["endpoint_url"]


SECRET_KEY = _env("DJANGO_SECRET_KEY", None if IS_PRODUCTION else _INSECURE_KEY) or ""
DEBUG = _env_bool("DJANGO_DEBUG", ENV == "local")

# The apex domain tenants live under: <slug>.<CLOUDKIDA_BASE_DOMAIN>. Locally `localhost`, which every
# browser resolves (with subdomains) to loopback without DNS set-up.
CLOUDKIDA_BASE_DOMAIN = _env("CLOUDKIDA_BASE_DOMAIN", "localhost")
# The sub-domain of the base domain that serves the system-admin site.
CLOUDKIDA_ADMIN_SUBDOMAIN = _env("CLOUDKIDA_ADMIN_SUBDOMAIN", "admin")
# Hosts CloudKida answers for besides tenants' verified custom domains. Django's own check is opened
# up ("*") because custom domains are data, not settings: cloudkida.tenancy.TenantMiddleware, first in
# the chain, refuses (400) every host that is neither listed here nor a verified custom domain.
CLOUDKIDA_ALLOWED_HOSTS = _env_list(
    "DJANGO_ALLOWED_HOSTS",
    "" if IS_PRODUCTION else f"localhost,127.0.0.1,.{CLOUDKIDA_BASE_DOMAIN},testserver",
)
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "cloudkida.admin.CloudKidaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "cloudkida",
    "tenants",
    "accounts",
    "labs",
    "billing",
]

MIDDLEWARE = [
    "cloudkida.logging.RequestLogMiddleware",
    "cloudkida.observability.MetricsMiddleware",
    "cloudkida.limits.RequestLimitsMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.portal.SessionRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.operator_session.OperatorAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "billing.api_calls.ApiCallMiddleware",  # counts API calls by tenant credentials (batched, no write per call)
]

ROOT_URLCONF = "cloudkida.urls"
WSGI_APPLICATION = "cloudkida.wsgi.application"

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
                "accounts.context.portal",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    """Parse the one DATABASE_URL form we support: sqlite:///path (local and test only)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parsed.path[1:] or ":memory:"}
    raise ImproperlyConfigured(f"Unsupported DATABASE_URL scheme {parsed.scheme!r}")


# Production has no SQL database at all (nothing always-on): tenant data lives in DynamoDB behind the
# repository layer, sessions are signed cookies, and system admins sign in through the operations user pool
# (accounts.operators), so no user row exists anywhere. Locally and in tests SQLite keeps the local-only
# password login of `make run`'s demo system admin.
DATABASES = (
    {}
    if IS_PRODUCTION
    else {"default": _database_from_url(_env("DATABASE_URL", f"sqlite:///{LOCAL_STATE_DIR / 'db.sqlite3'}") or "")}
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = _env("DJANGO_STATIC_URL", "/static/")
STATIC_ROOT = BASE_DIR / "staticfiles"

# Sessions need no database: a signed (not encrypted) cookie, so it holds only who signed in and never a
# secret. A copied cookie stays valid until it expires, hence the short life (seconds).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_AGE = int(_env("CLOUDKIDA_SESSION_SECONDS", str(8 * 3600)) or 8 * 3600)
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# --- AWS -------------------------------------------------------------------------------------------
AWS_REGION = _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1"))
# Endpoint override for local emulation (moto server, LocalStack, DynamoDB Local). Unset in production.
AWS_ENDPOINT_URL = _env("CLOUDKIDA_AWS_ENDPOINT_URL") or _local_aws_endpoint()
if AWS_ENDPOINT_URL and ENV == "local":
    # Emulators accept any credentials; these placeholders keep a real profile from being used by accident.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
AWS_CONNECT_TIMEOUT = float(_env("CLOUDKIDA_AWS_CONNECT_TIMEOUT", "2") or 2)  # seconds
AWS_READ_TIMEOUT = float(_env("CLOUDKIDA_AWS_READ_TIMEOUT", "10") or 10)  # seconds
AWS_MAX_ATTEMPTS = int(_env("CLOUDKIDA_AWS_MAX_ATTEMPTS", "5") or 5)  # total tries, adaptive mode

# Every AWS resource name starts with this prefix, so several stages can share one account.
CLOUDKIDA_RESOURCE_PREFIX = _env("CLOUDKIDA_RESOURCE_PREFIX", "cloudkida-local" if not IS_PRODUCTION else "")
CLOUDKIDA_ASSETS_BUCKET = _env("CLOUDKIDA_ASSETS_BUCKET", f"{CLOUDKIDA_RESOURCE_PREFIX}-tenant-assets")
CLOUDKIDA_SENDER_EMAIL = _env("CLOUDKIDA_SENDER_EMAIL", "no-reply@cloudkida.localhost")
# How long a pagination cursor stays valid, in seconds.
CLOUDKIDA_CURSOR_MAX_AGE = int(_env("CLOUDKIDA_CURSOR_MAX_AGE", "3600") or 3600)
# The slug of the shared tenant that individual learners join (bootstrap creates it), and its admin.
CLOUDKIDA_DEFAULT_TENANT = _env("CLOUDKIDA_DEFAULT_TENANT", "learners")
CLOUDKIDA_DEFAULT_TENANT_ADMIN_EMAIL = _env(
    "CLOUDKIDA_DEFAULT_TENANT_ADMIN_EMAIL", "learners-admin@cloudkida.localhost"
)

AWS_STORAGE_BUCKET_NAME = CLOUDKIDA_ASSETS_BUCKET
AWS_S3_REGION_NAME = AWS_REGION
AWS_S3_ENDPOINT_URL = AWS_ENDPOINT_URL
AWS_SES_REGION_NAME = AWS_REGION
AWS_SES_REGION_ENDPOINT = _env("CLOUDKIDA_SES_ENDPOINT", f"email.{AWS_REGION}.amazonaws.com")
DEFAULT_FROM_EMAIL = CLOUDKIDA_SENDER_EMAIL
AWS_SES_REGION_ENDPOINT_URL = AWS_ENDPOINT_URL
# The CloudFront domain in front of the assets bucket (production): static files are uploaded to the bucket
# under static/ at deploy time (`manage.py collectstatic`) and served from there, never by the Lambda.
CLOUDKIDA_ASSETS_DOMAIN = _env("CLOUDKIDA_ASSETS_DOMAIN", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def assets_storage(bucket: str, domain: str) -> dict:
    """The staticfiles storage of a deployed stage: the assets bucket under static/, read through CloudFront."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": "static",
            "custom_domain": domain,
            "querystring_auth": False,
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "public, max-age=86400"},
        },
    }


if CLOUDKIDA_ASSETS_DOMAIN:
    STATIC_URL = f"https://{CLOUDKIDA_ASSETS_DOMAIN}/static/"
    STORAGES["staticfiles"] = assets_storage(CLOUDKIDA_ASSETS_BUCKET, CLOUDKIDA_ASSETS_DOMAIN)
# SES (django-ses) in production and tests (against moto); the console locally, so a developer reads
# welcome and invitation emails in the `make run` terminal.
EMAIL_BACKEND = _env(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if ENV == "local" else "django_ses.SESBackend",
)
# django-ses paces sends to half the account's SES rate. Moto reports 1 message a second, which would
# pace a 500-row import to minutes of sleeping; production keeps the pacing for its real quota.
AWS_SES_AUTO_THROTTLE = 0.5 if IS_PRODUCTION else None

# --- API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "cloudkida.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cloudkida.errors.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiGatewayAuthorizerAuthentication",
        "accounts.authentication.BearerTokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.TenantSessionAuthentication",
        "accounts.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.RouteMatrixPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.TenantTierThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "cloudkida.limits.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "PREPROCESSING_HOOKS": ["cloudkida.apidocs.preprocess"],
    "TITLE": "CloudKida API",
    "DESCRIPTION": "Public API of the CloudKida hands-on labs control plane. Every error is "
    "`{code, message, details}`; lists are `{results, next_cursor}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TenantStatusEnum": "tenants.domain.TenantStatus",
        "UserStatusEnum": "accounts.domain.UserStatus",
        "StepStatusEnum": ["PENDING", "RUNNING", "SUCCEEDED", "FAILED"],
        "ImportStatusEnum": "accounts.domain.ImportStatus",
        "RowOutcomeEnum": "accounts.domain.RowOutcome",
        "DomainStatusEnum": "tenants.domain.DomainStatus",
        "LabStatusEnum": "labs.domain.LabStatus",
        "LabSessionStateEnum": "labs.domain.SessionState",
        "LabAccountStateEnum": "labs.domain.AccountState",
        "KeyScopeEnum": ["read", "write", "admin"],
        "WebhookEndpointStatusEnum": ["active", "disabled"],
        "WebhookDeliveryStatusEnum": ["pending", "delivered", "failed"],
        "InvoiceStatusEnum": ["draft", "issued", "paid", "void", "uncollectible"],
        "UsageScopeEnum": ["tenant", "user"],
        "RoleEnum": ["TenantAdmin", "TenantUser"],  # a user's role and an identity provider's default_role
    },
    # Swagger UI and ReDoc from the installed package, not a CDN: the docs work with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging ---------------------------------------------------------------------------------------
LOG_LEVEL = _env("CLOUDKIDA_LOG_LEVEL", "INFO")
# One JSON line per log record, with the tenant and request ids on every line (and the service and X-Ray
# trace id on a deployed stage: cloudkida.observability). CloudWatch metrics in embedded metric format (stdout) on a
# deployed stage; X-Ray subsegments for AWS calls only when asked for (~0.14 s of cold start).
CLOUDKIDA_METRICS = _env_bool("CLOUDKIDA_METRICS", IS_PRODUCTION)
CLOUDKIDA_TRACE_AWS_CALLS = _env_bool("CLOUDKIDA_TRACE_AWS_CALLS", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant": {"()": "cloudkida.observability.TenantFields"}},
    "formatters": {
        "json": {"()": "cloudkida.observability.lambda_formatter"}
        if IS_PRODUCTION
        else {"()": "cloudkida.logging.JsonFormatter"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["tenant"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"handlers": [], "propagate": False},
        "botocore": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
    },
}

# --- Security --------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(_env("DJANGO_HSTS_SECONDS", "31536000") or 31536000)  # one year
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Settings production cannot run without. Each must be set explicitly in the environment.
PRODUCTION_REQUIRED = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "CLOUDKIDA_BASE_DOMAIN",
    "CLOUDKIDA_RESOURCE_PREFIX",
    "CLOUDKIDA_SENDER_EMAIL",
)


def check_production(environ: dict[str, str], secret_key: str, debug: bool, endpoint: str | None) -> None:
    """Refuse to start production with unsafe defaults. Raises ImproperlyConfigured naming each problem."""
    problems = [f"{name} is not set" for name in PRODUCTION_REQUIRED if not environ.get(name)]
    if debug:
        problems.append("DEBUG must be off")
    if secret_key == _INSECURE_KEY or secret_key.startswith("django-insecure") or len(secret_key) < 50:
        problems.append("DJANGO_SECRET_KEY must be a unique value of at least 50 characters")
    if endpoint:
        problems.append("CLOUDKIDA_AWS_ENDPOINT_URL must not point production at an emulator")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))


if IS_PRODUCTION:
    check_production(dict(os.environ), SECRET_KEY, DEBUG, AWS_ENDPOINT_URL)

if ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    CLOUDKIDA_RESOURCE_PREFIX = "cloudkida-test"
    CLOUDKIDA_ASSETS_BUCKET = AWS_STORAGE_BUCKET_NAME = "cloudkida-test-tenant-assets"

# How long a process may serve a tenant record from memory before re-reading it, in seconds.
CLOUDKIDA_TENANT_CACHE_SECONDS = float(_env("CLOUDKIDA_TENANT_CACHE_SECONDS", "30") or 30)
# How old (seconds) the user and API-key records behind an authorisation decision may be: a role change,
# a disabled user or a revoked key takes effect within this time in every process (at once when 0).
CLOUDKIDA_AUTHZ_CACHE_SECONDS = float(_env("CLOUDKIDA_AUTHZ_CACHE_SECONDS", "60") or 0)
# How long (seconds) a renamed tenant's old subdomain keeps redirecting before anyone may take it.
CLOUDKIDA_SLUG_GRACE_SECONDS = int(_env("CLOUDKIDA_SLUG_GRACE_SECONDS", str(30 * 86400)) or 0)
# How long (seconds) a POST's Idempotency-Key is remembered, and how long a page waits for the first
# submission of a form that was submitted twice.
CLOUDKIDA_IDEMPOTENCY_SECONDS = int(_env("CLOUDKIDA_IDEMPOTENCY_SECONDS", "86400") or 86400)
CLOUDKIDA_IDEMPOTENT_PAGE_WAIT_SECONDS = float(_env("CLOUDKIDA_IDEMPOTENT_PAGE_WAIT_SECONDS", "15") or 15)
# The largest request body accepted, in bytes (larger: 413). Django reads it into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(_env("CLOUDKIDA_MAX_BODY_BYTES", str(1024 * 1024)) or 1024 * 1024)

# --- Tenancy and onboarding ------------------------------------------------------------------------
# API Gateway usage plan per tier: steady rate (requests/second), burst (requests), daily quota (requests).
CLOUDKIDA_TIER_LIMITS = {
    "basic": {"rate": 50, "burst": 50, "quota_per_day": 1000},
    "standard": {"rate": 75, "burst": 100, "quota_per_day": 3000},
    "premium": {"rate": 100, "burst": 200, "quota_per_day": 5000},
    "platinum": {"rate": 300, "burst": 300, "quota_per_day": 10000},
}
# Pooled tenants per pooled user pool shard (Cognito allows 1,000 app clients per pool; the headroom absorbs
# a slot reserved by an onboarding attempt that died before recording it). A full shard opens the next.
CLOUDKIDA_POOL_CLIENTS_PER_SHARD = int(_env("CLOUDKIDA_POOL_CLIENTS_PER_SHARD", "990") or 990)
# How onboarding runs: "inline" (in the request; tests), "thread" (in the background; make run),
# "stepfunctions" (an AWS Step Functions execution; production).
CLOUDKIDA_WORKFLOW_RUNNER = _env(
    "CLOUDKIDA_WORKFLOW_RUNNER", {"local": "thread", "test": "inline", "production": "stepfunctions"}[ENV]
)
# How background jobs (bulk imports) run: "inline" (in the request; tests), "thread" (in the background;
# make run), "lambda" (an asynchronous invocation of the Zappa function; production). See cloudkida/jobs.py.
CLOUDKIDA_JOB_RUNNER = _env("CLOUDKIDA_JOB_RUNNER", {"local": "thread", "test": "inline", "production": "lambda"}[ENV])
# The Lambda function jobs are invoked in (production): by default the function this code runs in.
CLOUDKIDA_JOBS_FUNCTION_NAME = _env("CLOUDKIDA_JOBS_FUNCTION_NAME", _env("AWS_LAMBDA_FUNCTION_NAME", ""))
# Seconds one slice of a job may run before it hands over to a new invocation (Lambda stops at 900).
CLOUDKIDA_JOB_SLICE_SECONDS = float(_env("CLOUDKIDA_JOB_SLICE_SECONDS", "600") or 600)
# Seconds between two polls of a workflow step that waits for AWS (a silo table becoming ACTIVE); the
# state machines are <prefix>-<workflow>, so no ARN is configured (cloudkida.workflows.state_machine_arn).
CLOUDKIDA_WORKFLOW_POLL_SECONDS = int(_env("CLOUDKIDA_WORKFLOW_POLL_SECONDS", "5") or 0)
# Scheme and port tenant URLs use in emails and redirects (locally http and the runserver port).
CLOUDKIDA_PUBLIC_SCHEME = _env("CLOUDKIDA_PUBLIC_SCHEME", "https" if IS_PRODUCTION else "http")
CLOUDKIDA_PUBLIC_PORT = _env("CLOUDKIDA_PUBLIC_PORT", "" if IS_PRODUCTION else _env("CLOUDKIDA_PORT", "8000"))
# Sign-ups allowed per client address per hour (POST /api/v1/registrations and the sign-up page).
CLOUDKIDA_SIGNUP_RATE_PER_HOUR = int(_env("CLOUDKIDA_SIGNUP_RATE_PER_HOUR", "10") or 10)
# The most tenants a system-admin name search reads before it stops.
CLOUDKIDA_ADMIN_SEARCH_MAX_READ = int(_env("CLOUDKIDA_ADMIN_SEARCH_MAX_READ", "5000") or 5000)

# How custom domains are verified: "dns" (public DNS through dnspython; production) or "static" (TXT
# records from CLOUDKIDA_DNS_STATIC_RECORDS, a JSON file mapping a name to its TXT strings; make run, tests).
CLOUDKIDA_DNS_RESOLVER = _env("CLOUDKIDA_DNS_RESOLVER", "dns" if IS_PRODUCTION else "static")
CLOUDKIDA_DNS_STATIC_RECORDS: str | dict = _env("CLOUDKIDA_DNS_STATIC_RECORDS", str(LOCAL_STATE_DIR / "dns.json")) or ""
CLOUDKIDA_DNS_TIMEOUT = float(_env("CLOUDKIDA_DNS_TIMEOUT", "5") or 5)  # seconds per TXT lookup

# --- Identity ------------------------------------------------------------------------------------------
CLOUDKIDA_JWKS_TIMEOUT = float(_env("CLOUDKIDA_JWKS_TIMEOUT", "3") or 3)  # seconds
CLOUDKIDA_TOKEN_LEEWAY = int(_env("CLOUDKIDA_TOKEN_LEEWAY", "30") or 30)  # seconds of clock skew allowed
# Behind API Gateway, trust the Lambda authorizer's context instead of verifying again (production only).
CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER = _env_bool("CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER", False)
# The authorizer mints tenant-scoped credentials by assuming the role <prefix>-tenant-data (the
# infrastructure stack creates it; its ARN follows from the account, see accounts.authorizer).
CLOUDKIDA_SCOPED_CREDENTIALS_SECONDS = int(_env("CLOUDKIDA_SCOPED_CREDENTIALS_SECONDS", "900") or 900)
# Development and tests only: Cognito's hosted UI emulated over the local emulator's Cognito API
# (accounts/cognito_emulator.py), at <CLOUDKIDA_COGNITO_EMULATOR_URL>/<hosted-UI domain>/. Production refuses it.
CLOUDKIDA_COGNITO_EMULATOR = _env_bool("CLOUDKIDA_COGNITO_EMULATOR", not IS_PRODUCTION)
# Each tenant's colours and logo on Cognito's hosted UI (SetUICustomization per app client); moto lacks the
# call, and locally the emulator renders the branding itself.
CLOUDKIDA_COGNITO_UI_CUSTOMIZATION = _env_bool("CLOUDKIDA_COGNITO_UI_CUSTOMIZATION", IS_PRODUCTION)
CLOUDKIDA_COGNITO_EMULATOR_URL = _env(
    "CLOUDKIDA_COGNITO_EMULATOR_URL", f"http://localhost:{_env('CLOUDKIDA_PORT', '8000')}/_cognito"
)
# `make run` starts a local OIDC identity provider (oidc-provider-mock) and sets its issuer here, so seed_demo
# connects it to the demo organisation for single sign-on (seed_demo refuses production).
CLOUDKIDA_DEMO_OIDC_ISSUER = _env("CLOUDKIDA_DEMO_OIDC_ISSUER", "")
CLOUDKIDA_OIDC_TIMEOUT = float(_env("CLOUDKIDA_OIDC_TIMEOUT", "10") or 10)  # seconds, token endpoint and JWKS
if IS_PRODUCTION and CLOUDKIDA_COGNITO_EMULATOR:
    raise ImproperlyConfigured("Refusing to start in production: CLOUDKIDA_COGNITO_EMULATOR is development-only")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # One-time codes and sign-in sessions of the hosted-UI emulator: shared by every process of `make run`.
    "cognito_emulator": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache"
        if ENV == "local"
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": str(LOCAL_STATE_DIR / "cognito-emulator") if ENV == "local" else "cognito-emulator",
    },
}
LOGIN_URL = "/login/"

# Content-Security-Policy for every page: no inline script or style anywhere (tenant colours come as a
# stylesheet, behaviour from static files). Forms may also go to the hosted UI (sign-out redirects there,
# and its pages send the browser back to the tenant's host). The Django admin and the API docs (whose
# bundles configure themselves inline) are left out.
_HOSTED_UI_ORIGINS = (
    ["http://localhost:*", "http://*.localhost:*", "http://127.0.0.1:*"]
    if CLOUDKIDA_COGNITO_EMULATOR
    else [f"https://*.auth.{AWS_REGION}.amazoncognito.com", f"https://*.{CLOUDKIDA_BASE_DOMAIN}"]
)
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ("/admin/", "/api/v1/docs/", "/api/v1/redoc/"),
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *_HOSTED_UI_ORIGINS],
    },
}
# --- Integrations: webhooks -------------------------------------------------------------------------------------
# Webhook deliveries may go to loopback addresses over plain http (a developer's or a test's local receiver).
# Private, link-local and other non-public addresses are refused everywhere; production refuses this too.
# The Lambda function (name) Cognito invokes for the user-pool triggers apps register (single sign-on's
# PreSignUp/PostConfirmation) on the pools CloudKida creates at run time (Platinum pools, new pooled shards);
# the template wires its own pooled pool. Empty: no triggers (local runs: the hosted-UI emulator runs them).
CLOUDKIDA_COGNITO_TRIGGER_FUNCTION = _env("CLOUDKIDA_COGNITO_TRIGGER_FUNCTION", "")
CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK = _env_bool("CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK", not IS_PRODUCTION)
if IS_PRODUCTION and CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("Refusing to start in production: CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK is development-only")
CLOUDKIDA_WEBHOOK_TIMEOUT = float(_env("CLOUDKIDA_WEBHOOK_TIMEOUT", "10") or 10)  # seconds to read a response
# Longest SQS delay of a retry message (SQS allows 900 s; a longer back-off waits in several hops).
# Tests use 0: the retry's due time (against the frozen clock) decides, not SQS's wall clock.
CLOUDKIDA_WEBHOOK_MAX_QUEUE_DELAY = int(_env("CLOUDKIDA_WEBHOOK_MAX_QUEUE_DELAY", "0" if ENV == "test" else "900"))
# An endpoint that has failed every delivery for this long is disabled and its contact emailed (seconds).
CLOUDKIDA_WEBHOOK_DISABLE_AFTER = int(_env("CLOUDKIDA_WEBHOOK_DISABLE_AFTER", "86400") or 86400)
# --- Integrations: LTI 1.3 (labs.lti) ---------------------------------------------------------------------------
# The tool's RSA private key (PEM) that signs deep-linking responses and AGS client assertions; its public half is
# served at /lti/jwks. Outside production an unset key is made per process (tests) or kept under the local state
# directory (make run); production leaves LTI switched off (503) until it is set.
CLOUDKIDA_LTI_PRIVATE_KEY = _env("CLOUDKIDA_LTI_PRIVATE_KEY", "") or ""
# --- Labs: the catalog, lab sessions, the account pool ----------------------------------------------------------
# Partitions of each region's index of available accounts (leases spread over them; DynamoDB takes about
# 1,000 writes/s per partition key, so 8 carry a few thousand leases and returns a second).
CLOUDKIDA_LAB_POOL_INDEX_PARTITIONS = int(_env("CLOUDKIDA_LAB_POOL_INDEX_PARTITIONS", "8") or 8)
# Initial pool targets per region (system admins change them on the pool dashboard): minimum available
# accounts (below it the replenisher creates accounts and the low-pool alarm fires) and maximum pool size.
CLOUDKIDA_LAB_POOL_TARGETS = json.loads(
    _env("CLOUDKIDA_LAB_POOL_TARGETS", '{"us-east-1": {"min_available": 2, "max_size": 20}}') or "{}"
)
# At most this many CreateAccount requests in flight per organization (AWS allows five).
CLOUDKIDA_LAB_MAX_CREATES_IN_FLIGHT = int(_env("CLOUDKIDA_LAB_MAX_CREATES_IN_FLIGHT", "5") or 5)
# Email of a new pool account: {shard} and {n} are filled in; every account needs a unique address.
CLOUDKIDA_LAB_ACCOUNT_EMAIL = _env("CLOUDKIDA_LAB_ACCOUNT_EMAIL", "aws-pool+{shard}-{n}@cloudkida.example")
# Failed cleanups before an account is quarantined.
CLOUDKIDA_LAB_CLEANUP_ATTEMPTS = int(_env("CLOUDKIDA_LAB_CLEANUP_ATTEMPTS", "3") or 3)
# How lab accounts are emptied: "boto3" (what the emulator covers; local runs and tests) or "aws-nuke"
# (CodeBuild project CLOUDKIDA_LAB_NUKE_PROJECT running aws-nuke with a generated config; production).
CLOUDKIDA_LAB_CLEANUP = _env("CLOUDKIDA_LAB_CLEANUP", "aws-nuke" if IS_PRODUCTION else "boto3")
CLOUDKIDA_LAB_NUKE_PROJECT = _env("CLOUDKIDA_LAB_NUKE_PROJECT", f"{CLOUDKIDA_RESOURCE_PREFIX}-aws-nuke")
# Where a lab's spend comes from (a class with spend(shard, since)); tests inject their own.
CLOUDKIDA_LAB_SPEND_SOURCE = _env("CLOUDKIDA_LAB_SPEND_SOURCE", "labs.spend.CostExplorerSource")
# Fractions of a lab's budget: tell the learner and listeners at the first, end the session at the second.
CLOUDKIDA_LAB_SPEND_ALERT = float(_env("CLOUDKIDA_LAB_SPEND_ALERT", "0.75") or 0.75)
CLOUDKIDA_LAB_SPEND_END = float(_env("CLOUDKIDA_LAB_SPEND_END", "1.0") or 1.0)
# The AWS sign-in federation endpoint (console URLs) and the issuer shown on AWS's sign-out page. Against
# the emulator there is no console: CLOUDKIDA_LAB_CONSOLE_SIGNIN is off locally and the page says so.
CLOUDKIDA_LAB_FEDERATION_URL = _env("CLOUDKIDA_LAB_FEDERATION_URL", "https://signin.aws.amazon.com/federation")
CLOUDKIDA_LAB_CONSOLE_ISSUER = _env("CLOUDKIDA_LAB_CONSOLE_ISSUER", f"https://{CLOUDKIDA_BASE_DOMAIN}")
CLOUDKIDA_LAB_CONSOLE_SIGNIN = _env_bool("CLOUDKIDA_LAB_CONSOLE_SIGNIN", ENV != "local")
# Seconds a start lock lives at most (a crashed start must not block the learner for ever).
CLOUDKIDA_LAB_START_LOCK_SECONDS = int(_env("CLOUDKIDA_LAB_START_LOCK_SECONDS", "1800") or 1800)
# Minutes one extension adds at most (extensions stop at the lab's maximum duration).
CLOUDKIDA_LAB_EXTENSION_MINUTES = int(_env("CLOUDKIDA_LAB_EXTENSION_MINUTES", "30") or 30)
# Seconds an account must have been in its state before the drift check judges its OU (moves in flight).
CLOUDKIDA_LAB_DRIFT_GRACE_SECONDS = int(_env("CLOUDKIDA_LAB_DRIFT_GRACE_SECONDS", "600") or 0)
# Accounts that aws-nuke must never touch (management and production accounts), comma-separated.
CLOUDKIDA_LAB_NUKE_BLOCKLIST = _env_list("CLOUDKIDA_LAB_NUKE_BLOCKLIST", "123456789012")
# System admins sign in to the Django admin through the operations user pool (OIDC, MFA there): see
# accounts.operators. The Django password login (the demo admin `make run` creates in SQLite) is local and
# test only; production has no database and no password login.
CLOUDKIDA_ADMIN_PASSWORD_LOGIN = _env_bool("CLOUDKIDA_ADMIN_PASSWORD_LOGIN", not IS_PRODUCTION)
if IS_PRODUCTION and CLOUDKIDA_ADMIN_PASSWORD_LOGIN:
    raise ImproperlyConfigured("Refusing to start in production: CLOUDKIDA_ADMIN_PASSWORD_LOGIN is local-only")
CLOUDKIDA_ADMIN_OIDC_LOGIN_URL = "/admin/oidc/login/"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"] if CLOUDKIDA_ADMIN_PASSWORD_LOGIN else []

# --- Billing (billing/) ---------------------------------------------------------------------------------------
# The payment provider: "fake" (make run and tests: no network) or "stripe". Production refuses the fake one. The
# Stripe keys come from the environment, never the repo; without them the Stripe adapter refuses every call and
# every webhook (503), so the app still starts and serves everything but payments.
CLOUDKIDA_BILLING_PROVIDER = _env("CLOUDKIDA_BILLING_PROVIDER", "stripe" if IS_PRODUCTION else "fake")
CLOUDKIDA_STRIPE_SECRET_KEY = _env("CLOUDKIDA_STRIPE_SECRET_KEY", "")
CLOUDKIDA_STRIPE_WEBHOOK_SECRET = _env("CLOUDKIDA_STRIPE_WEBHOOK_SECRET", "")
# The fake provider signs its webhooks with this (HMAC-SHA256), so its events are verified like Stripe's.
CLOUDKIDA_FAKE_PROVIDER_SECRET = _env("CLOUDKIDA_FAKE_PROVIDER_SECRET", "whsec_fake_local_only")
if IS_PRODUCTION and CLOUDKIDA_BILLING_PROVIDER != "stripe":
    raise ImproperlyConfigured("Refusing to start in production: CLOUDKIDA_BILLING_PROVIDER must be stripe")
# A lab that ends within this many minutes of being ready is free (its reservation is refunded whole).
CLOUDKIDA_BILLING_FREE_MINUTES = int(_env("CLOUDKIDA_BILLING_FREE_MINUTES", "3") or 3)
# Days after an invoice's due date before its tenant is warned, then days after the warning before the
# tenant's lab starts are refused (its data and portal stay).
CLOUDKIDA_BILLING_GRACE_DAYS = int(_env("CLOUDKIDA_BILLING_GRACE_DAYS", "7") or 7)
CLOUDKIDA_BILLING_REFUSE_AFTER_WARNING_DAYS = int(_env("CLOUDKIDA_BILLING_REFUSE_AFTER_WARNING_DAYS", "7") or 7)
CLOUDKIDA_BILLING_DUE_DAYS = int(_env("CLOUDKIDA_BILLING_DUE_DAYS", "14") or 14)  # invoice issue → due date
# The platform's own monthly AWS cost in USD (shared among tenants by lab minutes in the margin report).
CLOUDKIDA_BILLING_PLATFORM_COST_USD = _env("CLOUDKIDA_BILLING_PLATFORM_COST_USD", "0") or "0"
# How far back (hours) the reconciliation job looks for ended sessions that no listener metered.
CLOUDKIDA_BILLING_RECONCILE_HOURS = int(_env("CLOUDKIDA_BILLING_RECONCILE_HOURS", "48") or 48)
# Cost Explorer actuals (billing.jobs.actual_spend, daily): how many days back each run re-reads (its figures
# lag by up to a day and are revised), and until which day of a month the previous month is re-read as well
# (AWS finalises a month's figures within the first days of the next).
CLOUDKIDA_BILLING_ACTUALS_DAYS = int(_env("CLOUDKIDA_BILLING_ACTUALS_DAYS", "3") or 3)
# API calls are counted in process and added to DynamoDB in batches: when the oldest pending call is this many
# seconds old, or this many calls are pending (what a recycled Lambda instance can leave uncounted).
CLOUDKIDA_BILLING_API_FLUSH_SECONDS = int(_env("CLOUDKIDA_BILLING_API_FLUSH_SECONDS", "30") or 30)
CLOUDKIDA_BILLING_API_FLUSH_CALLS = int(_env("CLOUDKIDA_BILLING_API_FLUSH_CALLS", "100") or 100)
# Off in tests unless a test turns it on: one process runs many tests, each with its own emulated AWS, and a
# batch counted in one must not be written during another (which counts its own requests).
CLOUDKIDA_BILLING_COUNT_API_CALLS = _env("CLOUDKIDA_BILLING_COUNT_API_CALLS", "0" if ENV == "test" else "1") == "1"
CLOUDKIDA_BILLING_ACTUALS_PREVIOUS_MONTH_UNTIL_DAY = int(
    _env("CLOUDKIDA_BILLING_ACTUALS_PREVIOUS_MONTH_UNTIL_DAY", "5") or 5
)
