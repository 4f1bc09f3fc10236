/**
 * A fixed-length set of piece indices, packed high bit first as in
 * BitTorrent (BEP 3): piece 0 is the top bit of byte 0. Spare bits in the
 * last byte must be zero, so two equal sets have equal bytes.
 */

/** Bytes that are not a valid bitfield for the given piece count. */
export class InvalidBitfieldError extends Error {
  override name = 'InvalidBitfieldError'
  readonly code = 'ERR_INVALID_BITFIELD'
}

/** A set of piece indices from 0 to `length - 1`. */
export class Bitfield {
  /** Packed bits, `ceil(length / 8)` bytes. */
  readonly bytes: Uint8Array
  private setCount = 0

  /** An empty bitfield of `length` bits. */
  constructor (readonly length: number) {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bitfield length must be a non-negative integer, got ${length}`)
    this.bytes = new Uint8Array(Math.ceil(length / 8))
  }

  /** A bitfield with every bit set. */
  static full (length: number): Bitfield {
    const b = new Bitfield(length)
    for (let i = 0; i < length; i++) b.set(i)
    return b
  }

  /**
   * Parses bytes received from a peer or read from disk; throws
   * InvalidBitfieldError unless they are exactly `ceil(length / 8)` bytes
   * with zero spare bits.
   */
  static fromBytes (bytes: Uint8Array, length: number): Bitfield {
    const b = new Bitfield(length)
    if (bytes.length !== b.bytes.length) {
      throw new InvalidBitfieldError(`bitfield is ${bytes.length} bytes, expected ${b.bytes.length} for ${length} pieces`)
    }
    const spare = b.bytes.length * 8 - length
    if (spare > 0 && (bytes[bytes.length - 1] & ((1 << spare) - 1)) !== 0) {
      throw new InvalidBitfieldError('bitfield has bits set past its last piece')
    }
    b.bytes.set(bytes)
    let n = 0
    for (const byte of b.bytes) n += popcount8(byte)
    b.setCount = n
    return b
  }

  /** True when `index` is in the set (false for any out-of-range index). */
  get (index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return false
    return (this.bytes[index >> 3] & (0x80 >> (index & 7))) !== 0
  }

  /** Adds `index`; returns true if it was not there before. */
  set (index: number): boolean {
    this.check(index)
    const mask = 0x80 >> (index & 7)
    if ((this.bytes[index >> 3] & mask) !== 0) return false
    this.bytes[index >> 3] |= mask
    this.setCount++
    return true
  }

  /** Removes `index`; returns true if it was there. */
  clear (index: number): boolean {
    this.check(index)
    const mask = 0x80 >> (index & 7)
    if ((this.bytes[index >> 3] & mask) === 0) return false
    this.bytes[index >> 3] &= ~mask
    this.setCount--
    return true
  }

  /** Number of indices in the set. */
  get count (): number {
    return this.setCount
  }

  /** True when every index is in the set. */
  get isFull (): boolean {
    return this.setCount === this.length
  }

  /** A copy of the packed bytes, safe to send or store. */
  toBytes (): Uint8Array {
    return new Uint8Array(this.bytes)
  }

  /** An independent copy. */
  clone (): Bitfield {
    return Bitfield.fromBytes(this.bytes, this.length)
  }

  private check (index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`piece index ${index} out of range 0..${this.length - 1}`)
    }
  }
}

function popcount8 (x: number): number {
  x = x - ((x >> 1) & 0x55)
  x = (x & 0x33) + ((x >> 2) & 0x33)
  return (x + (x >> 4)) & 0x0f
}
