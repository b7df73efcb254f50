/**
 * The cards on the page and which of them need drawing: a card is drawn again only when it is
 * stale and on screen, and a frame that runs out of time resumes with the next card, round robin,
 * so every card gets its turn. How visibility is watched comes in from outside (an
 * IntersectionObserver in the panel, a stand-in in test/unit/webview/deck.test.ts).
 */
import type { Card, Scene } from "./card";

/** Starts watching whether an element is on screen; returns what stops it. */
export type WatchVisibility = (element: HTMLElement, onChange: (visible: boolean) => void) => () => void;

/** Watches with one IntersectionObserver (the panel's; tests pass a stand-in instead). */
export function watchVisibility(): WatchVisibility {
  const watchers = new Map<Element, (visible: boolean) => void>();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) watchers.get(entry.target)?.(entry.isIntersecting);
  });
  return (element, onChange) => {
    watchers.set(element, onChange);
    observer.observe(element);
    return () => {
      observer.unobserve(element);
      watchers.delete(element);
    };
  };
}

interface Slot {
  readonly card: Card;
  visible: boolean;
  stale: boolean;
  unwatch: () => void;
}

export class CardDeck {
  private readonly slots = new Map<string, Slot>();
  /** Where the last frame that ran out of time stopped. */
  private next = 0;

  constructor(
    private readonly watch: WatchVisibility,
    /** A card that needs drawing came on screen. */
    private readonly wake: () => void,
  ) {}

  add(card: Card): void {
    const slot: Slot = { card, visible: true, stale: true, unwatch: () => {} };
    this.slots.set(card.id, slot);
    slot.unwatch = this.watch(card.element, (visible) => {
      slot.visible = visible;
      if (visible && slot.stale) this.wake();
    });
  }

  get(id: string): Card | undefined {
    return this.slots.get(id)?.card;
  }

  cards(): Card[] {
    return [...this.slots.values()].map((slot) => slot.card);
  }

  ids(): string[] {
    return [...this.slots.keys()];
  }

  /** Destroys every card (a new layout follows). */
  clear(): void {
    for (const slot of this.slots.values()) {
      slot.unwatch();
      slot.card.destroy();
    }
    this.slots.clear();
  }

  invalidate(): void {
    for (const slot of this.slots.values()) slot.stale = true;
  }

  markStale(id: string): void {
    const slot = this.slots.get(id);
    if (slot) slot.stale = true;
  }

  /** Whether some card on screen still waits to be drawn. */
  get pending(): boolean {
    return [...this.slots.values()].some((slot) => slot.stale && slot.visible);
  }

  /**
   * Draws the stale cards on screen while `hasTime()` allows, starting where the last frame that
   * ran out of time stopped. False when some were left for the next frame.
   */
  drawStale(scene: Scene, hasTime: () => boolean): boolean {
    const list = [...this.slots.values()];
    for (let i = 0; i < list.length; i++) {
      const slot = list[(this.next + i) % list.length];
      if (!slot.stale || !slot.visible) continue;
      if (!hasTime()) {
        this.next = (this.next + i) % list.length;
        return false;
      }
      this.draw(slot, scene);
    }
    return true;
  }

  /** Draws one card now, stale or not (a benchmark aid). */
  drawNow(id: string, scene: Scene): void {
    const slot = this.slots.get(id);
    if (slot) this.draw(slot, scene);
  }

  private draw(slot: Slot, scene: Scene): void {
    slot.stale = false;
    slot.card.render(scene);
  }
}
