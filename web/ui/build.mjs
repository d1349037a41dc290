// Builds the pages' assets into ../static/dist:
//   app.js              the live map page, bundled with MapLibre GL JS and h3-js
//   planner.js          the planner page, bundled likewise
//   maplibre-gl-worker.js  MapLibre's tile worker (loaded by app.js as a module worker)
//   maplibre-gl.css     MapLibre's stylesheet
//
// Usage: node build.mjs [--dev]   (--dev: unminified, with source maps)
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static', 'dist');
const maplibre = join(here, 'node_modules', 'maplibre-gl', 'dist');
const dev = process.argv.includes('--dev');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

// The live map (app.js) and the planner page (planner.js), each a bundle of its own.
for (const [entry, file] of [['main.js', 'app.js'], ['planner.js', 'planner.js']]) await build({
  entryPoints: [join(here, 'src', entry)],
  outfile: join(out, file),
  bundle: true,
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'eof',
  logLevel: 'info',
});

// The worker is self-contained; drop its source-map comment since the map is not shipped.
const worker = await readFile(join(maplibre, 'maplibre-gl-worker.mjs'), 'utf8');
await writeFile(join(out, 'maplibre-gl-worker.js'), worker.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
await cp(join(maplibre, 'maplibre-gl.css'), join(out, 'maplibre-gl.css'));
