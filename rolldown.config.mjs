// Each worker thread's code, and the command line's, as few files as possible (dist/bundle/),
// built from tsc's output in dist/ by `npm run build` (and prepare, and the test scripts). A worker
// that loads one file instead of its ~30-40 modules starts with ~27 % less CPU (a replica's start
// 850 -> 620 ms of CPU, 380 -> 260 ms, measured; BENCHMARKS.md). src/server/entry_scripts.ts
// chooses a bundle while it is not older than the last compile, and the modules otherwise.
//
// Two builds, so that the code the command line shares with the workers does not split the
// workers' bundles into shared chunks: the workers (their shared code in worker-*.js), then the
// command line (its lazily loaded parts in cli-*.js).
//
// Packages and node: builtins stay imports (native addons, piscina's own thread file). A module
// that finds a file by import.meta.url must name it from a file two levels under the package
// root (dist/<dir>/<file>.js), the depth of dist/bundle/<name>.js: the path then holds in both.
const common = {
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
};
const output = { dir: 'dist/bundle', format: 'esm', entryFileNames: '[name].js', sourcemap: true };

export default [
  {
    ...common,
    input: {
      net_worker: 'dist/workers/net_worker.js',
      shard_worker: 'dist/workers/shard_worker.js',
      commit_worker: 'dist/workers/commit_worker.js',
    },
    output: { ...output, chunkFileNames: 'worker-[name].js', cleanDir: true },
  },
  {
    ...common,
    input: { cli: 'dist/cli/main.js' },
    output: { ...output, chunkFileNames: 'cli-[name].js' },
  },
];
