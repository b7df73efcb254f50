import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Card, Scene } from "../../../webview/cards/card";
import { CardDeck } from "../../../webview/cards/deck";

/** A card that records its draws; its element is a stand-in (the deck only hands it to the watcher). */
function card(id: string, draws: string[]): Card & { destroyed: boolean } {
  return {
    id,
    element: { id } as unknown as HTMLElement,
    destroyed: false,
    render: () => draws.push(id),
    destroy() {
      this.destroyed = true;
    },
  };
}

function deck() {
  const visibility = new Map<string, (visible: boolean) => void>();
  let watching = 0;
  let wakes = 0;
  const cards = new CardDeck(
    (element, onChange) => {
      visibility.set(element.id, onChange);
      watching++;
      return () => watching--;
    },
    () => wakes++,
  );
  const draws: string[] = [];
  const scene = {} as Scene;
  return { cards, draws, scene, visibility, watching: () => watching, wakes: () => wakes };
}

describe("the deck of cards", () => {
  it("draws only the cards that are stale and on screen", () => {
    const { cards, draws, scene, visibility } = deck();
    for (const id of ["a", "b", "c"]) cards.add(card(id, draws));
    visibility.get("b")?.(false);
    assert.ok(cards.drawStale(scene, () => true));
    assert.deepEqual(draws, ["a", "c"]);
    assert.ok(cards.drawStale(scene, () => true));
    assert.deepEqual(draws, ["a", "c"], "nothing is stale any more");
    assert.ok(cards.pending === false, "b waits, but it is not on screen");
    cards.markStale("c");
    cards.drawStale(scene, () => true);
    assert.deepEqual(draws, ["a", "c", "c"]);
  });

  it("a stale card coming on screen asks for a frame", () => {
    const { cards, draws, scene, visibility, wakes } = deck();
    cards.add(card("a", draws));
    visibility.get("a")?.(false);
    cards.drawStale(scene, () => true);
    visibility.get("a")?.(true);
    assert.equal(wakes(), 1);
    assert.ok(cards.pending);
  });

  it("a frame out of time resumes with the card it stopped at, so every card gets its turn", () => {
    const { cards, draws, scene } = deck();
    for (const id of ["a", "b", "c", "d"]) cards.add(card(id, draws));
    let budget = 2;
    const hasTime = () => budget-- > 0;
    assert.equal(cards.drawStale(scene, hasTime), false);
    assert.deepEqual(draws, ["a", "b"]);
    cards.invalidate();
    budget = 2;
    assert.equal(cards.drawStale(scene, hasTime), false);
    assert.deepEqual(draws, ["a", "b", "c", "d"], "c and d first, not a and b again");
    budget = 10;
    assert.ok(cards.drawStale(scene, hasTime));
    assert.deepEqual(draws, ["a", "b", "c", "d", "a", "b"]);
  });

  it("clearing destroys every card and stops watching it", () => {
    const { cards, draws, watching } = deck();
    const made = ["a", "b"].map((id) => card(id, draws));
    for (const c of made) cards.add(c);
    assert.equal(watching(), 2);
    cards.clear();
    assert.equal(watching(), 0);
    assert.ok(made.every((c) => c.destroyed));
    assert.deepEqual(cards.ids(), []);
  });
});
