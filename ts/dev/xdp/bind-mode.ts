// How an XdpBinding binds its AF_XDP sockets: zero-copy where the driver says it can
// (xsk-zerocopy in the netdev family's xdp-features), copy mode elsewhere, and copy mode again if
// a zero-copy bind fails after all, with the reason kept for the report. need_wakeup is on in
// both modes: every kernel with AF_XDP zero-copy or copy mode since 5.4 offers it, and it lets
// an idle worker sleep instead of kicking the kernel on every loop.
import type { BindMode, NativeUnsupported, NativeXdpFeatures } from './native.js';

/** What the binding tries first, and why. */
export interface BindModeChoice {
  /** 'auto' only where the kernel does not say what the driver can: it then decides itself. */
  mode: 'zerocopy' | 'copy' | 'auto';
  why: string;
}

export interface XdpFeatureReading {
  features?: NativeXdpFeatures;
  unsupported?: NativeUnsupported;
}

/** True where the driver supports AF_XDP zero-copy (xsk-zerocopy), false where it says it does not. */
export function offersZeroCopy(reading: XdpFeatureReading): boolean | undefined {
  return reading.features?.xdpFeatures.includes('xsk-zerocopy');
}

/**
 * The bind mode to try first on a device whose driver is `driver`, with the XDP program attached
 * in `xdpMode`: what was asked for, or for 'auto' what the driver's features allow.
 */
export function chooseBindMode(
  requested: BindMode,
  xdpMode: 'native' | 'generic',
  driver: string,
  reading: XdpFeatureReading,
): BindModeChoice {
  const name = driver || 'the driver';
  if (requested === 'zerocopy') return { mode: 'zerocopy', why: 'zero-copy was asked for' };
  if (requested === 'copy') return { mode: 'copy', why: 'copy mode was asked for' };
  if (xdpMode === 'generic') {
    return {
      mode: 'copy',
      why: 'the XDP program runs in generic (skb) mode, where AF_XDP copies every frame',
    };
  }
  const zeroCopy = offersZeroCopy(reading);
  if (zeroCopy === undefined) {
    return {
      mode: 'auto',
      why: `${reading.unsupported?.message ?? 'the driver does not say'}; the kernel tried zero-copy itself`,
    };
  }
  if (zeroCopy) return { mode: 'zerocopy', why: `${name} offers xsk-zerocopy` };
  const features = reading.features!.xdpFeatures;
  return {
    mode: 'copy',
    why: `${name} does not offer xsk-zerocopy (xdp-features: ${features.join(', ') || 'none'})`,
  };
}

/** The XDP attach mode to ask for, and why. */
export interface AttachModeChoice {
  mode: 'auto' | 'native' | 'generic';
  why: string;
}

/**
 * Where the XDP program should run. Native XDP needs 'basic'; AF_XDP in native mode also needs
 * 'redirect' (the program redirects to the XSKMAP): a driver with the one and not the other would
 * take the program and drop every frame it redirects, so 'auto' runs generic there. 'auto' is
 * left to the addon (native first, generic if the driver refuses) where the kernel does not say.
 */
export function chooseAttachMode(
  requested: 'auto' | 'native' | 'generic',
  driver: string,
  reading: XdpFeatureReading,
): AttachModeChoice {
  const name = driver || 'the driver';
  if (requested !== 'auto') return { mode: requested, why: `${requested} was asked for` };
  const features = reading.features?.xdpFeatures;
  if (features === undefined) {
    return { mode: 'auto', why: 'native if the driver takes the program, else generic' };
  }
  if (!features.includes('basic')) {
    return { mode: 'generic', why: `${name} has no native XDP (xdp-features: none)` };
  }
  if (!features.includes('redirect')) {
    return {
      mode: 'generic',
      why: `${name} has native XDP but not XDP_REDIRECT, which AF_XDP needs`,
    };
  }
  return { mode: 'native', why: `${name} has native XDP with redirect` };
}

/** The reason recorded when a zero-copy bind failed and copy mode took over. */
export function zeroCopyFailed(choice: BindModeChoice, err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${choice.why}, but the zero-copy bind failed (${e.code ?? 'error'}: ${e.message ?? String(err)}); copy mode instead`;
}
