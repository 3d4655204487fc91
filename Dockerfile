# Itaku: the Slack app (`itaku serve`), answering from the bundled knowledge base, offline by default.
#   docker build -t itaku .
#   docker run --env-file .env -v itaku-data:/app/data itaku                       # Socket Mode
#   docker run --env-file .env -p 3000:3000 -v itaku-data:/app/data itaku serve --http   # HTTP mode
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ITAKU_DATA_DIR=/app/data ITAKU_KNOWLEDGE_DIR=/app/knowledge \
    ITAKU_APPROVAL_POLICY=/app/approval_policy.yaml ITAKU_DRAFTS_DIR=/app/data/drafts
WORKDIR /app

# Dependencies first, in their own layer: source edits do not reinstall them.
# requirements.lock holds the runtime pins only (the dev tools are in requirements-dev.lock).
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md manifest.json approval_policy.yaml ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN pip install --no-deps . \
    && rm -rf bot build \
    && useradd --create-home --uid 10001 itaku \
    && mkdir -p /app/data && chown -R itaku:itaku /app/data

USER itaku
# Index the bundled knowledge base at build time, so the first question is answered at once.
# A fresh volume on /app/data hides it: `itaku serve` then indexes on its first start.
RUN itaku index

EXPOSE 3000
ENTRYPOINT ["itaku"]
CMD ["serve"]
