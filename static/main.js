import { Router } from './core/Router.js';
import { AuthService } from './services/AuthService.js';
import { LoginPage } from './pages/LoginPage.js';
import { SlotsPage } from './pages/SlotsPage.js';

const routes = {
  '/login': LoginPage,
  '/slots': SlotsPage,
};

const router = new Router(routes, document.getElementById('app'));

router.navigate(AuthService.isLoggedIn() ? '/slots' : '/login');

// Integration: the service worker caches the app shell, so the app opens with no network (server/offline.py)
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}
