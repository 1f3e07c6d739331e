// Each worker thread's code as one file (dist/bundle/), built from tsc's output in dist/ by
// `npm run build` (and prepare, and the test scripts). A worker that loads one file instead of
// its ~30-40 modules starts with ~27 % less CPU (a replica's start 850 -> 620 ms of CPU, 380 ->
// 260 ms, measured; BENCHMARKS.md). src/server/worker_scripts.ts chooses the bundle while it is
// not older than the last compile, and the modules otherwise.
//
// Packages and node: builtins stay imports (native addons, piscina's own thread file). A module
// that finds a file by import.meta.url must name it from a file two levels under the package
// root (dist/<dir>/<file>.js), the depth of dist/bundle/<worker>.js: the path then holds in both.
export default {
  input: {
    net_worker: 'dist/workers/net_worker.js',
    shard_worker: 'dist/workers/shard_worker.js',
    commit_worker: 'dist/workers/commit_worker.js',
  },
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'shared-[name].js',
    cleanDir: true,
    sourcemap: true,
  },
};
