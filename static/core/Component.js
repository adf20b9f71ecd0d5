export class Component {
  constructor(element) {
    this.element = element;
  }

  template() {
    return '';
  }

  render() {
    this.element.innerHTML = this.template();
    this.afterRender();
  }

  afterRender() {}

  // Integration: teardown hook the Router calls before replacing this page (innerHTML alone leaks sockets and listeners)
  destroy() {}
}
