# ledgerlink as a container job: `docker build -t ledgerlink:latest .`, then see compose.yaml and
# docs/guides/container.md. The image runs as the non-root user `ledgerlink` with a read-only root file system:
# everything it writes (pipeline state, the secret key, caches, temporary files, DuckDB's spill files) goes to the
# one volume at /data. Configuration comes from the environment and mounted files only.

# -- build: the wheel, without the tests, docs or the source tree in the final image -------------------------------
# the Python base: Docker Hub's slim image by default; where no registry can be reached, any local image with
# Python >= 3.11, pip and useradd (see docs/guides/container.md: a Debian rootfs made with mmdebstrap)
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY plugins ./plugins
# with the fleet extra (DBOS, psycopg): compose.yaml runs `fleet worker` from this same image
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[fleet]"

# -- run -----------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# no .pyc writes into a read-only site-packages; logs leave the process at once
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    # every path ledgerlink writes defaults to a folder in here (state/, tmp/, cache/, config/, secret.key)
    LEDGERLINK_DATA_DIR=/data \
    # one JSON object per line on stdout: time, level, logger, message, pipeline, run_id
    LEDGERLINK_LOG_FORMAT=json \
    # `ledgerlink serve` (the console) serves this folder, listening on all of the container's interfaces
    LEDGERLINK_WORKSPACE=/data/workspace \
    LEDGERLINK_HOST=0.0.0.0 \
    LEDGERLINK_PORT=8700
RUN groupadd --system --gid 10001 ledgerlink \
    && useradd --system --uid 10001 --gid ledgerlink --home-dir /data --no-create-home --shell /usr/sbin/nologin ledgerlink \
    && install -d -o ledgerlink -g ledgerlink -m 0700 /data
COPY --from=build /wheels /wheels
# (a Debian-based PYTHON_IMAGE marks its Python externally managed: this image is that Python's only user)
RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER ledgerlink:ledgerlink
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8700
# the data folder writable and the secret key readable; with LEDGERLINK_HEALTH_URL set (the console), its /healthz
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["ledgerlink", "health"]
# SIGTERM finishes the batch in hand and exits 143; give it time (`docker stop -t 60`, compose stop_grace_period)
STOPSIGNAL SIGTERM
ENTRYPOINT ["ledgerlink"]
CMD ["serve"]
