// MapLibre GL JS, set up to load its tile worker from next to the page bundle (dist/), with
// the page's ?token= when it has one (the server may guard its static files with it).
import * as maplibregl from 'maplibre-gl';

const worker = new URL('./maplibre-gl-worker.js', import.meta.url);
const token = new URLSearchParams(location.search).get('token');
if (token) worker.searchParams.set('token', token);
maplibregl.setWorkerUrl(worker.href);

// Start the worker now, so it loads while the page fetches the plan.
maplibregl.prewarm();

export default maplibregl;
