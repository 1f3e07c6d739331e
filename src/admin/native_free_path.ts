// Where the node:http twin of the admin server lives: native-free/ at the package root, beside
// dist/ (and beside src/ when run from source). Named from a module two levels under the root
// (dist/admin/, src/admin/), as a worker bundle is (dist/bundle/): rolldown.config.mjs.

export const NATIVE_FREE_HTTP = new URL('../../native-free/http_backend.js', import.meta.url);
