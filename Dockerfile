# fakestack as a container, for CI services that want the fake beside the code under test:
#   docker build -t fakestack . && docker run --rm -p 8080:8080 -e FAKESTACK_ADMIN_TOKEN=s3cret fakestack
# then point your SDK at http://localhost:8080 (the dashboard is at /_fakestack/ui).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md LICENSE conftest_plugin.py ./
COPY fakestack ./fakestack
# Only what running needs (the runtime dependencies, no test extra).
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 fakestack \
    && rm -rf /src

USER fakestack
WORKDIR /home/fakestack
EXPOSE 8080

# Inside a container the server must listen on 0.0.0.0, where `fakestack serve` refuses to
# start without an admin token (or --insecure-admin): pass one at run time,
#   docker run --rm -p 8080:8080 -e FAKESTACK_ADMIN_TOKEN=s3cret fakestack
# and send it as the X-Fakestack-Admin-Token header to /_fakestack (the dashboard takes ?token=).
CMD ["sh", "-c", "exec fakestack serve --host 0.0.0.0 --port 8080 --admin-token \"${FAKESTACK_ADMIN_TOKEN:?docker run -e FAKESTACK_ADMIN_TOKEN=...}\""]
