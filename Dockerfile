# Production image: the ASGI app served by Daphne. Configure it with environment variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

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
CMD ["sh", "-c", "python manage.py migrate --noinput && exec daphne --bind 0.0.0.0 --port 8000 --proxy-headers healthcare.asgi:application"]
