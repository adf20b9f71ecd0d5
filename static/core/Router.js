import { AuthService } from '../services/AuthService.js';

export class Router {
  constructor(routes, rootElement) {
    this.routes = routes;
    this.rootElement = rootElement;
  }

  navigate(path) {
    if (path === '/slots' && !AuthService.isLoggedIn()) {
      path = '/login';
    } else if (path === '/login' && AuthService.isLoggedIn()) {
      path = '/slots';
    }

    const PageClass = this.routes[path];
    const page = new PageClass(this.rootElement, this);
    page.render();

    history.pushState({}, '', path);
  }
}
