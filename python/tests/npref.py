"""An independent numpy implementation of glnn's Conv2D (SPEC §2.2, §3, §4.5, §4.6), written from the
specification only.  It follows the reference arithmetic: float32 throughout, one accumulator per output
value summed over ky, kx, ci in that order, then the residual, then the bias, then the activation and Q.
Products and sums are separate float32 operations, so results match the CPU reference bit for bit.
"""
import numpy as np

F = np.float32


def quantize(v):
    """Q(v) = floor(255·clamp(v, 0, 1) + 0.5) in float32; Q(NaN) = 0."""
    v = np.asarray(v, dtype=np.float32)
    out = np.floor(F(255) * np.clip(v, F(0), F(1)) + F(0.5))
    out = np.where(np.isnan(v), 0, out)
    return out.astype(np.uint8)


def activate(z, activation):
    z = z.astype(np.float32)
    if activation == "default":
        return z
    if activation == "brelu6":
        return F(0.167) * z
    if activation == "sigmoid_like":
        t1 = np.clip(F(0.1) * z, F(-0.05), F(0.05))
        t2 = np.clip(F(0.05) * z, F(-0.125), F(0.125))
        return ((t1 + t2) + F(0.05) * z) + F(0.5)
    raise ValueError(activation)


def axis(n_in, k, s, padding):
    """Output length and padding before, SPEC §3."""
    if padding == "valid":
        return (n_in - k) // s + 1, 0
    n = -(-n_in // s)
    p = max(0, (n - 1) * s + k - n_in)
    return n, p // 2


def conv2d(x, w, bias=None, residual=None, stride=1, padding="valid", groups=1, activation="default"):
    """x: uint8 (H, W, C); w: float32 (k, k, Cg, Cout) HWIO; returns uint8 (Ho, Wo, Cout)."""
    x = np.asarray(x, dtype=np.uint8)
    w = np.asarray(w, dtype=np.float32)
    H, W, C = x.shape
    k, _, cg, cout = w.shape
    image = C == 3
    G = 1 if image else groups
    assert cg * G == C
    cout_g = cout // G
    Ho, by = axis(H, k, stride, padding)
    Wo, bx = axis(W, k, stride, padding)
    assert Ho > 0 and Wo > 0
    xf = x.astype(np.float32) / F(255)
    # Zero-padded copy large enough for every window.
    ph, pw = (Ho - 1) * stride + k, (Wo - 1) * stride + k
    xp = np.zeros((ph + H, pw + W, C), np.float32)
    xp[by:by + H, bx:bx + W] = xf
    acc = np.zeros((Ho, Wo, cout), np.float32)
    for ky in range(k):
        for kx in range(k):
            patch = xp[ky:ky + (Ho - 1) * stride + 1:stride, kx:kx + (Wo - 1) * stride + 1:stride]
            for g in range(G):
                sl = slice(g * cout_g, (g + 1) * cout_g)
                for ci in range(cg):
                    v = patch[:, :, g * cg + ci][:, :, None]
                    prod = w[ky, kx, ci, sl][None, None, :] * v
                    acc[:, :, sl] = acc[:, :, sl] + prod
    z = acc
    if residual is not None:
        z = z + np.asarray(residual, dtype=np.uint8).astype(np.float32) / F(255)
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float32)[None, None, :]
    return quantize(activate(z, activation))
