# Legate's container image: the sidecar (`legate proxy sidecar`, uid 1337), the gateways
# (`legate proxy router`) and the init mode (`legate iptables …`, run as root with NET_ADMIN
# and NET_RAW by the injected istio-init container) are the same image with other arguments.
# test/unit/container_layout.test.ts builds the final stage's layout into a directory and runs it.

# Production dependencies only, without install scripts (the addon is built below).
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

# The native addon (node-gyp: python3, make, g++ are in this image) and the TypeScript build.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci

FROM node:20-bookworm-slim
# iptables for the init mode (legate iptables pipes its rules to iptables-restore).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1337 --user-group --no-create-home --shell /usr/sbin/nologin istio-proxy
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/build/Release/legate_native.node ./build/Release/legate_native.node
COPY --from=build /app/build/Release/legate_http1.node ./build/Release/legate_http1.node
RUN ln -s /app/bin/legate.js /usr/local/bin/legate
ENV NODE_ENV=production
USER 1337:1337
ENTRYPOINT ["legate"]
CMD ["proxy", "sidecar", "--config", "/etc/istio/config"]
