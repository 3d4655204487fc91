# Itaku: a small image that answers from the bundled knowledge base, offline by default.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ITAKU_DATA_DIR=/app/data ITAKU_KNOWLEDGE_DIR=/app/knowledge
WORKDIR /app

# Dependencies first, in their own layer: source edits do not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 itaku \
    && mkdir -p /app/data && chown -R itaku:itaku /app/data

USER itaku
# Index the bundled knowledge base at build time, so the first question is answered at once.
RUN itaku index

ENTRYPOINT ["itaku"]
CMD ["chat"]
