# event-records: the API with its data, served by gunicorn on port 8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EVENT_RECORDS_ROOT=/app \
    EVENT_RECORDS_DATA_DIR=/var/lib/event-records

WORKDIR /app
COPY pyproject.toml setup.cfg README.md ./
COPY api ./api
COPY models ./models
COPY seeds ./seeds
COPY fixtures ./fixtures
RUN pip install '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /var/lib/event-records --create-home app \
    && chown -R app /var/lib/event-records

USER app
# Validate and load the bundled fixtures at build time, so a container starts serving at once.
RUN event-records load

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

# gunicorn directly (the same settings as `event-records serve`); DATABASE_URL switches to PostgreSQL.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread", "--threads", "4", \
     "--preload", "--no-control-socket", "--access-logfile", "-", "api:create_app()"]
