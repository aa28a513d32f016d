# Production image: the ASGI app under uvicorn (`python -m healthcare.serve`, the
# Procfile's web command). Configure it with environment variables; the same
# image runs the task worker (`python manage.py qcluster`) and the one-shot
# `python manage.py migrate` in docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app

COPY . .
RUN pip install -c constraints.txt . \
    && useradd --system --home /app --shell /usr/sbin/nologin portal \
    && mkdir -p /app/staticfiles /app/speech-models \
    && chown -R portal /app/staticfiles /app/speech-models

# collectstatic needs settings but no real secrets or database.
RUN ENV_FILE=/nonexistent SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput --verbosity 0

USER portal
EXPOSE 8000
# Migrations are not run here: every replica would race through them. Run
# `python manage.py migrate` once per release (compose's migrate service does).
CMD ["python", "-m", "healthcare.serve"]
