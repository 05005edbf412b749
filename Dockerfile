# CredEx production image: gunicorn by default; the same image runs the Celery worker/beat
# and the one-shot `python manage.py db_bootstrap` (see docker-compose.yml).
#
# Build:  docker build -t credex .
# Run:    docker run --env-file prod.env -p 8000:8000 credex
# The container must get DATABASE_URL, DATABASE_OWNER_URL, REDIS_URL, DJANGO_SECRET_KEY and
# DJANGO_ALLOWED_HOSTS (docs/production.md): without DATABASE_URL settings would try to
# start the embedded development stack.

# --- stage 1: the source tree, without local state ------------------------------------
# Copies the build context and drops what must never reach the image (virtualenv, the
# embedded stack's data folder with its secret key, git metadata, tests). A .dockerignore
# listing the same paths keeps the build context small too.
FROM python:3.12-slim-bookworm AS source
WORKDIR /src
COPY . .
RUN rm -rf .venv .data .git .github staticfiles media node_modules screenshots tmp \
        tests benchmarks build .pytest_cache .ruff_cache ./*.egg-info \
    && find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- stage 2: the runtime image --------------------------------------------------------
FROM python:3.12-slim-bookworm

# PYTHONPATH=/app: settings.py derives BASE_DIR (templates/, static/, staticfiles/) from the
# location of credex/settings.py, so the code is imported from /app, not site-packages.
# STATIC_MANIFEST=1: serve the hashed, compressed files collected at build (WhiteNoise).
# WEB_CONCURRENCY: gunicorn's worker count; override per deployment.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=credex.settings \
    PYTHONPATH=/app \
    STATIC_MANIFEST=1 \
    WEB_CONCURRENCY=3

# WeasyPrint's native libraries (Pango, HarfBuzz subsetting) and a default font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
        tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 credex \
    && useradd --system --uid 10001 --gid credex --create-home --home-dir /home/credex \
        --shell /usr/sbin/nologin credex

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself.
COPY --from=source /src /app
RUN pip install . \
    && rm -rf build ./*.egg-info

# Static files at build time. The dummy DATABASE_URL / REDIS_URL keep settings from
# starting the embedded Postgres/Redis (nothing connects to them: collectstatic needs no
# database); the secret key is a build-only placeholder. None of these persist in the image.
RUN STATIC_MANIFEST=1 \
    DJANGO_SECRET_KEY=build-only-dummy-secret-key-not-used-at-runtime \
    DATABASE_URL=postgres://build:build@127.0.0.1:1/build \
    REDIS_URL=redis://127.0.0.1:1/0 \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    FIELD_ENCRYPTION_KEYS=HvVDtkuoykhKxsvGcNypDnpKyzzHNUd1PJQ1vnKkAjg= \
    python manage.py collectstatic --noinput

# /app stays root-owned and read-only for the application user.
USER credex:credex

EXPOSE 8000
CMD ["gunicorn", "credex.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm"]
