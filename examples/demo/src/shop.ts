import { randomBytes } from "node:crypto";

/** A product of the demo shop. */
export interface Product {
  readonly id: string;
  readonly name: string;
  /** Price in cents (euros). */
  readonly priceCents: number;
}

/** The fixed catalogue. */
export const PRODUCTS: readonly Product[] = [
  { id: "sencha", name: "Sencha green tea, 100 g", priceCents: 850 },
  { id: "beans", name: "Coffee beans, 250 g", priceCents: 1190 },
  { id: "mug", name: "Stoneware mug", priceCents: 1400 },
  { id: "honey", name: "Wildflower honey", priceCents: 720 },
];

/** One line of a cart, as stored in the session (JSON). */
export interface CartLine {
  /** Random id of the line, for "remove". */
  readonly id: string;
  /** The product, or `null` for a free-text request. */
  readonly productId: string | null;
  readonly name: string;
  /** Price per item in cents, or `null` ("on request"). */
  readonly priceCents: number | null;
  readonly quantity: number;
}

/** Most lines in one cart; keeps the session far below core's 64 KiB cap. */
export const MAX_CART_LINES = 20;
/** Longest free-text request, in characters. */
export const MAX_REQUEST_LENGTH = 80;
const MAX_QUANTITY = 99;

/** Formats cents as euros. */
export function formatPrice(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}

/**
 * The cart with one more of a product, or with a free-text request, and the
 * line added to; a string explains why not.
 */
export function addToCart(
  cart: readonly CartLine[],
  item: { productId: string } | { request: string },
): { cart: CartLine[]; added: CartLine } | string {
  if ("productId" in item) {
    const product = PRODUCTS.find((candidate) => candidate.id === item.productId);
    if (product === undefined) return "That product does not exist.";
    const existing = cart.find((line) => line.productId === product.id);
    if (existing !== undefined) {
      if (existing.quantity >= MAX_QUANTITY) return `At most ${MAX_QUANTITY} of one product.`;
      const added = { ...existing, quantity: existing.quantity + 1 };
      return { cart: cart.map((line) => (line === existing ? added : line)), added };
    }
    if (cart.length >= MAX_CART_LINES) return `At most ${MAX_CART_LINES} different items.`;
    const added = newLine(product.id, product.name, product.priceCents);
    return { cart: [...cart, added], added };
  }
  const name = item.request.trim();
  if (name === "") return "Type the item you are looking for.";
  if (name.length > MAX_REQUEST_LENGTH)
    return `Requests are at most ${MAX_REQUEST_LENGTH} characters.`;
  if (cart.length >= MAX_CART_LINES) return `At most ${MAX_CART_LINES} different items.`;
  const added = newLine(null, name, null);
  return { cart: [...cart, added], added };
}

function newLine(productId: string | null, name: string, priceCents: number | null): CartLine {
  return { id: randomBytes(6).toString("base64url"), productId, name, priceCents, quantity: 1 };
}
