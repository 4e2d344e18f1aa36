# aliasgate: the gateway with the default English pipeline, running as an unprivileged user.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY proxy ./proxy
COPY policies ./policies
RUN pip install --no-cache-dir . \
    && useradd --system --home /var/lib/aliasgate --create-home aliasgate

USER aliasgate
WORKDIR /var/lib/aliasgate
COPY deploy/aliasgate.yaml /etc/aliasgate/aliasgate.yaml
EXPOSE 8080
# Mount /var/lib/aliasgate as a volume: it holds the master key and the audit log.
CMD ["aliasgate", "serve", "--config", "/etc/aliasgate/aliasgate.yaml", "--host", "0.0.0.0"]
