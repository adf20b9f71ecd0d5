// Integration: signing out deletes the driver's offline copy of their bookings
import { forgetMyBookings } from '../parking/offline.js';

const STORAGE_KEY = 'parking_auth_token';

// Integration: shown on the login page after the API or the socket rejected the session (expired, or refused after a server change)
const SESSION_ENDED_MESSAGE = 'Your session has ended. Please sign in again.';

function readSession() {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  return stored ? JSON.parse(stored) : null;
}

export const AuthService = {
  // Integration: set by expireSession(), read once by the login page
  sessionMessage: null,

  // Integration: the real POST /login replaces the hard-coded test/test user; the session now carries the JWT and its expiry
  async login(email, password) {
    let response;
    try {
      response = await fetch('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
    } catch {
      throw { message: 'Could not reach the server. Please try again.' };
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw { message: body?.error?.message ?? 'Sign-in failed. Please try again.' };
    }
    // Integration: a previous driver's offline copy of their bookings goes before this session starts
    await forgetMyBookings().catch(() => {});
    const session = { token: body.token, user: body.user, expiresAt: Date.now() + body.expires_in * 1000 };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    return session.user;
  },

  // Integration: returns once the offline copy of the driver's bookings is gone from Cache Storage
  logout() {
    sessionStorage.removeItem(STORAGE_KEY);
    return forgetMyBookings().catch(() => {});
  },

  // Integration: an expired token no longer counts as logged in
  isLoggedIn() {
    const session = readSession();
    return session !== null && Date.now() < session.expiresAt;
  },

  getCurrentUser() {
    const session = readSession();
    return session ? session.user : null;
  },

  // Integration: the JWT for API calls and the socket, or null once it has expired
  getToken() {
    return this.isLoggedIn() ? readSession().token : null;
  },

  // Integration: ends a session the server rejected and leaves a message for the login page
  expireSession() {
    this.logout();
    this.sessionMessage = SESSION_ENDED_MESSAGE;
  },

  // Integration: returns the message once, so a later visit to the login page starts clean
  takeSessionMessage() {
    const message = this.sessionMessage;
    this.sessionMessage = null;
    return message;
  },
};
