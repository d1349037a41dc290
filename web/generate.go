package web

//go:generate sh -c "cd ui && npm ci --no-audit --no-fund && npm run build"
