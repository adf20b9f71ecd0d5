// The driver's last-known "My bookings", kept in Cache Storage so the app still shows them
// with no network (the service worker, /sw.js, caches only the app shell). Only the signed-in
// driver's own list is stored, tagged with their id; signing out deletes it.
const CACHE_NAME = 'parking-my-bookings';
const KEY = '/offline/my-bookings';

function available() {
  return typeof caches !== 'undefined';
}

// {userId, savedAt (ms), reservations, series}
export async function saveMyBookings(userId, reservations, series) {
  if (!available()) {
    return;
  }
  const body = JSON.stringify({ userId, savedAt: Date.now(), reservations, series });
  const cache = await caches.open(CACHE_NAME);
  await cache.put(KEY, new Response(body, { headers: { 'Content-Type': 'application/json' } }));
}

// The saved list if it is this driver's, else null.
export async function loadMyBookings(userId) {
  if (!available()) {
    return null;
  }
  const response = await (await caches.open(CACHE_NAME)).match(KEY);
  const saved = response ? await response.json().catch(() => null) : null;
  return saved?.userId === userId ? saved : null;
}

export async function forgetMyBookings() {
  if (available()) {
    await caches.delete(CACHE_NAME);
  }
}
