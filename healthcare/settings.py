"""Settings for the healthcare portal.

Everything comes from the environment (django-environ). Values already set in
the environment win over the `.env` file. Defaults make a bare machine work:
SQLite, in-memory channel layer, console email. Production is the same code
with DATABASE_URL, SECRET_KEY and FIELD_ENCRYPTION_KEY set.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE lets tests (and operators) point at another file, or at none.
ENV_FILE = Path(os.environ.get("ENV_FILE", BASE_DIR / ".env"))
if ENV_FILE.is_file():
    env.read_env(str(ENV_FILE), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see .env.example), "
            "or run `make .env` to generate a development .env file."
        )
    return value


SECRET_KEY = _required("SECRET_KEY")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

# One Fernet key, or several separated by commas: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEY = [k.strip() for k in _required("FIELD_ENCRYPTION_KEY").split(",") if k.strip()]
# Key of the SSN duplicate-detection HMAC. It must stay fixed while encryption
# keys rotate, so it is its own setting; by default it is derived from SECRET_KEY.
SSN_HASH_KEY = env.str("SSN_HASH_KEY", default="")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_q",
    "auditlog",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_ratelimit",
    "accounts",
    "patients",
    "providers",
    "scheduling",
    "records",
    "prescriptions",
    "messaging",
    "assistant",
    "oauth2_provider",
    "fhir_api",
]

MIDDLEWARE = [
    "healthcare.middleware.HttpMethodAllowlistMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "healthcare.headers.PortalCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "patients.middleware.ViewerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    # A session that has passed only the password reaches the second factor and sign-out, nothing else.
    "accounts.signin.PendingSignInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "healthcare.middleware.AuditActorMiddleware",
    "messaging.middleware.UnreadBadgeMiddleware",
    # Turns a view's Ratelimited into the 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, so it sees the outcome of every sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

# Methods the pages answer; anything else (TRACE, PUT, OPTIONS...) is a 405 before any view runs.
HTTP_METHODS_ALLOWED = ("GET", "HEAD", "POST")

ROOT_URLCONF = "healthcare.urls"
WSGI_APPLICATION = "healthcare.wsgi.application"
ASGI_APPLICATION = "healthcare.asgi.application"

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
                "accounts.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue
    # instead of failing with "database is locked" half-way through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # How many PostgreSQL connections the portal can hold (README, "Deploying"):
    #   web:    processes (replicas x WEB_CONCURRENCY) x DATABASE_POOL_SIZE
    #   worker: one per django-q process (TASK_WORKERS + 3: sentinel, monitor, pusher)
    #   plus a few for migrate, the shell and psql
    # and that sum must stay under PostgreSQL's max_connections (100 by default).
    # docker-compose: 2 x 2 x 8 = 32 web + (2 + 3) worker + 10 = 47 of 100.
    #
    # The web server pools (`python -m healthcare.serve` turns it on): under ASGI
    # Django runs each request's sync code in a thread of its own, so a
    # per-thread persistent connection (CONN_MAX_AGE > 0) is never reused and
    # stays open after its thread ends: measured, 40 concurrent requests left
    # 69 connections open. The pool caps connections per process at its size;
    # a request beyond that waits up to DATABASE_POOL_TIMEOUT seconds for one.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=0)
    if DATABASE_POOL_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
            # Idle connections beyond min_size are closed after five minutes.
            "max_idle": 300,
        }
    else:
        # Everything else (task worker, management commands) runs one thread per
        # process, where a persistent connection is reused: the worker sets it.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: a locked-out account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the session's user with their portal profile joined.
    "accounts.backends.PortalModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Passwords ----------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Patients who never chose a zone read times in the practice's.
PORTAL_TIME_ZONE = env.str("PORTAL_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders when nothing was collected (development, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
# Files browsers ask for at the site root (/favicon.ico), served as static files are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Channels and cache ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Keeps this site's keys apart when several deployments share one Redis.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="portal")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 reads with a 5 s socket timeout by default, and
                        # every idle socket's consumer waits in a blocking pop of the
                        # same 5 s on the server (channels_redis issue #422): the client
                        # gives up first, the consumer dies and the browser sees 1011
                        # after 5-15 s. No read timeout on these connections; TCP
                        # keep-alive and the health check find a dead Redis instead.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 30,
                    }
                ],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
    # Shared by every process: rate-limit counters, anything cached. Same Redis,
    # its own key prefix, so the channel layer's keys never mix with the cache's.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_KEY_PREFIX}:cache",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 5,
                "SOCKET_TIMEOUT": 5,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # One process (`make run`): its own memory is the whole cache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Email --------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# --- Task engine (django-q2) ----------------------------------------------------
# Email and the scheduled jobs run in `manage.py qcluster`, never in a request.
# Broker: the database by default (SQLite in `make run`: nothing else to install),
# Redis when REDIS_URL is set, so worker processes on several machines share one queue.
# Retries: every failure is acknowledged ("ack_failures") and kept as a Failure for the
# admin; email tasks re-schedule themselves with a growing delay (healthcare/mail.py),
# which works on both brokers (the Redis broker never redelivers). "retry" only brings
# back a task whose worker died before acknowledging it (ORM broker), so it must exceed
# "timeout"; "max_attempts" stops a task that kills its worker every time.
Q_CLUSTER = {
    # The queue's key in Redis; several deployments on one Redis keep theirs apart.
    "name": env.str("REDIS_KEY_PREFIX", default="portal"),
    "workers": env.int("TASK_WORKERS", default=2),
    "timeout": env.int("TASK_TIMEOUT_SECONDS", default=600),
    "retry": env.int("TASK_TIMEOUT_SECONDS", default=600) + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    # Successes kept for the admin; failures are always kept.
    "save_limit": 500,
    "label": "Tasks",
    # Seconds the ORM broker waits between polls of an empty queue.
    "poll": env.float("TASK_POLL_SECONDS", default=1.0),
    # Tests run tasks inline (conftest.py); a deployment never does.
    "sync": env.bool("TASKS_SYNC", default=False),
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}
# Email tasks that fail are tried again after 30 s, 1, 2, 4 ... minutes (doubling).
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=30)
EMAIL_RETRY_ATTEMPTS = env.int("EMAIL_RETRY_ATTEMPTS", default=8)

# --- Security -----------------------------------------------------------------
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=true.
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Number of reverse proxies in front of the app whose X-Forwarded-For we trust.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) and Permissions-Policy ---------------------
# Every script and stylesheet is a file under static/: no inline code, no eval, so an
# injected <script> or on*= attribute does not run. connect-src also names this
# request's own ws:/wss: origin (healthcare.headers), for the live pages' websockets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The TOTP QR code is inline SVG markup, not an image: nothing needs data: URLs.
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The assistant's microphone on this origin only; every other powerful feature off.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "microphone": ["self"],
    **{
        feature: []
        for feature in (
            "accelerometer",
            "autoplay",
            "camera",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "magnetometer",
            "midi",
            "payment",
            "publickey-credentials-get",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    },
}
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# No script reads the token from the cookie: forms carry it in their hidden input.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Idle timeout: the session's expiry moves forward on every request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute limit, however active the session is (accounts.middleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
# How often an open websocket re-checks that its session is still valid.
WEBSOCKET_SESSION_CHECK_SECONDS = env.float("WEBSOCKET_SESSION_CHECK_SECONDS", default=30.0)
# Time allowed between the password and the one-time code of a sign-in.
MFA_PENDING_SECONDS = 5 * 60
EMAIL_VERIFICATION_TIMEOUT = 3 * 24 * 60 * 60
EMAIL_CHANGE_TIMEOUT = 24 * 60 * 60
# Changing how an account signs in asks for the password (and a code) again;
# one confirmation is good for this long.
REAUTH_VALID_SECONDS = env.int("REAUTH_VALID_SECONDS", default=5 * 60)
# The idle sign-out is announced this long before it happens ("Stay signed in").
SESSION_IDLE_WARNING_SECONDS = env.int("SESSION_IDLE_WARNING_SECONDS", default=2 * 60)
PASSWORD_RESET_TIMEOUT = 60 * 60
PROVIDER_INVITATION_TIMEOUT = 7 * 24 * 60 * 60

# --- FHIR API and SMART on FHIR (django-oauth-toolkit, fhir_api/) -----------------------
# ID tokens are signed with this RSA key (PEM). Without one, each process makes
# its own at start: fine for development and tests, but then an ID token only
# verifies against the process that issued it, so production sets it (one key
# for every web process); `openssl genrsa 2048` makes one.
OIDC_RSA_PRIVATE_KEY = env.str("OIDC_RSA_PRIVATE_KEY", multiline=True, default="").strip()
if not OIDC_RSA_PRIVATE_KEY:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    OIDC_RSA_PRIVATE_KEY = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
# DOT's models are swappable; naming them lets migrations of other apps refer to them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "fhir_api.oauth.SmartValidator",
    "SCOPES_BACKEND_CLASS": "fhir_api.oauth.SmartScopes",
    "DEFAULT_SCOPES": ["openid"],
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "PKCE_REQUIRED": True,
    # S256 only: a "plain" challenge is the verifier itself and protects nothing (RFC 9700 2.1.1).
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    # Tokens are stored hashed: DOT 3.x keeps only the SHA-256 checksum it looks
    # tokens up by, and leaves the token column blank, so a copy of the database
    # holds no usable token. Client secrets are hashed too (hash_client_secret,
    # on by default, with Django's password hasher).
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # The bearer token only in the Authorization header, never in a URL or a form body.
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    # The authorization response names its issuer (RFC 9207): no mix-up between servers.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("FHIR_ACCESS_TOKEN_SECONDS", default=60 * 60),
    "ID_TOKEN_EXPIRE_SECONDS": 60 * 60,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Refresh tokens (only with offline_access) last 90 days and rotate on every use;
    # a replayed old one revokes the whole family (a stolen copy is noticed).
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("FHIR_REFRESH_TOKEN_SECONDS", default=90 * 24 * 60 * 60),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Every authorization asks the user again (the consent page), even for an app they use.
    "REQUEST_APPROVAL_PROMPT": "force",
    # http stays allowed for native apps' loopback redirects (http://127.0.0.1:<any port>/,
    # RFC 8252 7.3); administrators register every redirect URI, so no other http one appears.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "ALLOW_LOCALHOST_LOOPBACK": True,
}

# --- Rate limits (django-ratelimit, healthcare/ratelimits.py) -----------------
# Counters live in the default cache: Redis when REDIS_URL is set, so every
# process shares them. Rates are "count/period" (s, m, h, d; "5/15m"); an empty
# value switches a limit off. Override one with RATELIMIT_<NAME>, e.g.
# RATELIMIT_SIGN_IN=100/5m.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "healthcare.ratelimits.too_many_requests"
RATELIMITS: dict[str, str] = {
    name: env.str("RATELIMIT_" + name.upper().replace("-", "_"), default=rate)
    for name, rate in {
        "sign-in": "60/5m",  # sign-in and code posts per client address
        "register": "10/h",  # per client address
        "register-email": "3/h",  # per address typed (each registration emails it)
        "password-reset": "10/h",
        "password-reset-email": "3/h",
        "verify-resend": "10/h",
        "verify-resend-email": "3/h",
        "emergency-lookup": "10/15m",  # break-the-glass searches per provider
        "assistant-utterance": "30/m",  # typed or spoken questions per user, page and websocket
        "fhir-token": "300/m",  # FHIR API requests per access token (one app on one device)
        "fhir-app": "3000/m",  # FHIR API requests per registered app, all its users together
    }.items()
}
# axes.W006 wants the address among axes' own lockout parameters; the address
# has its own, higher limit instead (AXES_ADDRESS_FAILURE_LIMIT, below), so one
# person's typos do not lock out everyone behind the same router.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# oauth2_provider.W008 warns that http redirect URIs are allowed: they must be, for
# native apps' loopback redirects (RFC 8252 7.3); see OAUTH2_PROVIDER above.
SILENCED_SYSTEM_CHECKS += ["oauth2_provider.W008"]
if not REDIS_URL:
    # Without Redis the local-memory cache counts in one process (its increment
    # is atomic there); django-ratelimit's check wants a shared cache.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Lockout (django-axes) ----------------------------------------------------
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
# An account locks after 5 failures from any address. An address (a whole clinic
# behind one router) locks only after far more failures across accounts, which
# stops password spraying without locking out the neighbours of one person who
# mistyped (accounts.lockout.address_locked).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=50)
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "healthcare.net.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_from_request"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Multi-factor (django-otp) ------------------------------------------------
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Healthcare portal")

# --- Optional tuning ------------------------------------------------------------
# Each has its default in its app (scheduling/conf.py, assistant/conf.py); set
# one in the environment to change it.
_OPTIONAL: dict[str, type] = {
    "PORTAL_BASE_URL": str,  # e.g. https://portal.example.org, for links in emails sent by cron jobs
    "SCHEDULING_CANCEL_CUTOFF_HOURS": int,
    "SCHEDULING_CHANGE_GRACE_MINUTES": int,
    "SCHEDULING_MIN_LEAD_MINUTES": int,
    "SCHEDULING_HORIZON_DAYS": int,
    "SCHEDULING_REMINDER_HOURS": int,
    "SCHEDULING_REMINDER_CLAIM_SECONDS": int,
    "VOSK_MODEL_PATH": str,
    "VOSK_MODEL_URL": str,
    "VOSK_MODEL_SHA256": str,
    "ASSISTANT_SPEECH_WORKERS": int,
    "ASSISTANT_MAX_UTTERANCE_SECONDS": float,
    # Largest request body (bytes); by default the longest WAV upload plus its form (healthcare/bodylimit.py).
    "REQUEST_BODY_MAX_BYTES": int,
}
for _name, _cast in _OPTIONAL.items():
    if os.environ.get(_name):
        globals()[_name] = _cast(os.environ[_name])

# --- Audit --------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_STORE_JSON_CHANGES = True

# --- Logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Identifiers a person typed or said (SSN, card numbers) never reach a log line.
    "filters": {"redact_identifiers": {"()": "assistant.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_identifiers"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Axes reports every successful sign-in at INFO; failures and lockouts stay visible.
    "loggers": {"axes": {"level": "WARNING"}},
}
