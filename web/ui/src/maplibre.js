// MapLibre GL JS, set up to load its tile worker from next to the page bundle (dist/).
import * as maplibregl from 'maplibre-gl';

maplibregl.setWorkerUrl(new URL('./maplibre-gl-worker.js', import.meta.url).href);

export default maplibregl;
