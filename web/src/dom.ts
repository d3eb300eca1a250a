/** Minimal DOM helpers; the page is small enough that a framework would cost more than it saves. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`dashboard markup is missing #${id}`);
  return element as T;
}

type Child = Node | string | number | null | undefined;

/** Creates an element; text children are set as text, never parsed as HTML (task ids come from users). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
  return element;
}

export function setText(element: HTMLElement, text: string): void {
  // Skipping identical writes avoids needless style recalculation on every frame.
  if (element.textContent !== text) element.textContent = text;
}
