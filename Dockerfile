# The OneAll Push API sandbox as a container (README, "In CI"):
#   docker build -t oneall-sandbox . && docker run --rm -p 8080:8080 oneall-sandbox
#   podman build --format docker -t oneall-sandbox .   (the OCI format drops HEALTHCHECK)
# Settings: SANDBOX_* variables; files such as identities go under /config (mount it read-only).

# --- build: a wheel from the build context; the build backend stays in this stage ------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sandbox/ sandbox/
COPY schemas/ schemas/
COPY fixtures/ fixtures/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- run: the wheel and its dependencies (all pure Python or prebuilt wheels: no compiler) -----
FROM python:3.11-slim
LABEL org.opencontainers.image.title="oneall-push-sandbox" \
      org.opencontainers.image.description="An offline emulator of the OneAll API: the Push API and the calls around it" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=8080 \
    SANDBOX_TLS_DIR=/tls
# The wheel is bind-mounted from the build stage, so no copy of it stays in a layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
    && groupadd --gid 10001 sandbox \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin sandbox \
    && mkdir /config \
    && install -d -m 0700 -o 10001 -g 10001 /tls
USER 10001:10001
EXPOSE 8080
# With SANDBOX_TLS=1 the port serves HTTPS, signed by a CA made at first start in /tls (mount
# a volume there to keep it, or your own ca.pem and ca-key.pem; docs/https.md).
# No curl in the image: the probe is the sandbox's own (Python's urllib); it reads the SANDBOX_*
# variables, tries HTTPS with the CA in /tls as well as HTTP, and fails on anything but a 200.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["oneall-sandbox", "--check-health"]
# Exec form: the sandbox is PID 1 and gets SIGTERM itself; it exits 0 at once when idle and
# gives requests in flight SANDBOX_GRACE seconds (default 5, under docker stop's 10).
ENTRYPOINT ["oneall-sandbox"]
