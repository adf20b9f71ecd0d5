import { AuthService } from '../services/AuthService.js';

export class Router {
  constructor(routes, rootElement) {
    this.routes = routes;
    this.rootElement = rootElement;
    // Integration: remembered so it can be torn down before the next page replaces it
    this.currentPage = null;
    // Integration: back/forward render the page for the new URL (unknown paths like "/" go through the login guard)
    window.addEventListener('popstate', () => {
      const path = location.pathname in this.routes ? location.pathname : '/login';
      this.navigate(path, false);
    });
  }

  // Integration: addToHistory is false for popstate, where the browser has already moved in history
  navigate(path, addToHistory = true) {
    if (path === '/slots' && !AuthService.isLoggedIn()) {
      path = '/login';
    } else if (path === '/login' && AuthService.isLoggedIn()) {
      path = '/slots';
    }

    const PageClass = this.routes[path];
    const page = new PageClass(this.rootElement, this);
    // Integration: tear down the previous page (the parking island's socket and listeners) first
    this.currentPage?.destroy();
    this.currentPage = page;
    page.render();

    // Integration: popstate replaces instead of pushing, which also fixes the URL when a guard redirected
    if (addToHistory) {
      history.pushState({}, '', path);
    } else {
      history.replaceState({}, '', path);
    }
  }
}
