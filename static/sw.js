// The service worker (served as /sw.js by server/offline.py, which prepends SHELL: the
// shell's file list and a version hashed from them). It caches the app shell and the
// vendored libraries, so the app opens with no network. It never caches an API answer:
// no other driver's data, no token, no admin board. The driver's own last-known "My
// bookings" are kept by the page itself (static/parking/offline.js) in their own cache.
const SHELL_CACHE = `parking-shell-${SHELL.version}`;
const SHELL_PREFIX = 'parking-shell-';
// The app's pages all get index.html (server/frontend.py's APP_PAGES).
const PAGES = ['/', '/login', '/slots'];
const INDEX = '/';

self.addEventListener('install', (event) => {
  // A new deployment's worker takes over at once rather than after every tab has closed.
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll([INDEX, ...SHELL.files]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

// Network first: online, every load gets the deployed files (and refreshes the cache);
// offline, the cached copy. Everything else (the API, /ws, /docs) passes through untouched.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === 'navigate' && PAGES.includes(url.pathname)) {
    event.respondWith(networkFirst(request, INDEX));
  } else if (SHELL.files.includes(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(key, response.clone());
    }
    return response;
  } catch {
    return (await cache.match(key)) ?? Response.error();
  }
}
