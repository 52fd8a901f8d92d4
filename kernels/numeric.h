// The 16- and 8-bit number formats of the KV cache, decoded and encoded on the host exactly as the
// GPU does it (round to nearest even), for the CPU reference, the host model and test data.
#pragma once

#include <cstdint>
#include <cstring>

namespace kvplan::kernels {

inline float bits_to_float(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline std::uint32_t float_to_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float bf16_to_float(std::uint16_t bits) { return bits_to_float(std::uint32_t{bits} << 16); }

inline std::uint16_t float_to_bf16(float value) {
  std::uint32_t bits = float_to_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
inline float fp16_to_float(std::uint16_t bits) {
  std::uint32_t sign = std::uint32_t{bits & 0x8000u} << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline std::uint16_t float_to_fp16(float value) {
  std::uint32_t bits = float_to_bits(value);
  std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);
  if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (magnitude < 0x38800000u) {  // below 2^-14: subnormal, a multiple of 2^-24
    float scaled = bits_to_float(magnitude) * 0x1p24f;
    auto whole = static_cast<std::uint32_t>(scaled);
    float rest = scaled - static_cast<float>(whole);
    if (rest > 0.5f || (rest == 0.5f && (whole & 1u))) ++whole;
    return static_cast<std::uint16_t>(sign | whole);
  }
  std::uint32_t rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

// OCP fp8 E4M3 ("e4m3fn", vLLM's fp8): 1 sign, 4 exponent (bias 7), 3 mantissa bits, no
// infinities, 0x7f and 0xff are NaN, largest finite value 448.
inline float e4m3_to_float(std::uint8_t bits) {
  bool negative = (bits & 0x80u) != 0;
  int exponent = (bits >> 3) & 0xf;
  int mantissa = bits & 0x7;
  float magnitude;
  if (exponent == 0xf && mantissa == 0x7) {
    magnitude = bits_to_float(0x7fc00000u);
  } else if (exponent == 0) {
    magnitude = static_cast<float>(mantissa) * 0x1p-9f;
  } else {
    magnitude = (1.0f + static_cast<float>(mantissa) / 8.0f) * bits_to_float(static_cast<std::uint32_t>(exponent + 120) << 23);
  }
  return negative ? -magnitude : magnitude;
}

// The inverse, as cvt.rn.satfinite.e4m3x2.f32 does it: round to nearest even, magnitudes from 448
// up saturate to 448, NaN stays NaN. Used where the prefill kernel writes an fp8 cache.
inline std::uint8_t float_to_e4m3(float value) {
  const std::uint32_t bits = float_to_bits(value);
  const auto sign = static_cast<std::uint8_t>((bits >> 24) & 0x80u);
  const std::uint32_t magnitude_bits = bits & 0x7fffffffu;
  if (magnitude_bits > 0x7f800000u) return 0x7f;
  const float magnitude = bits_to_float(magnitude_bits);
  if (magnitude >= 448.0f) return static_cast<std::uint8_t>(sign | 0x7eu);
  if (magnitude < 0x1p-6f) {  // subnormal: a multiple of 2^-9 (code 8 is 2^-6, the first normal)
    const float scaled = magnitude * 0x1p9f;
    auto whole = static_cast<std::uint32_t>(scaled);
    const float rest = scaled - static_cast<float>(whole);
    if (rest > 0.5f || (rest == 0.5f && (whole & 1u))) ++whole;
    return static_cast<std::uint8_t>(sign | whole);
  }
  int exponent = static_cast<int>(magnitude_bits >> 23) - 127;  // -6 .. 8
  std::uint32_t mantissa = (magnitude_bits >> 20) & 0x7u;
  const std::uint32_t rest = magnitude_bits & 0xfffffu;
  if (rest > 0x80000u || (rest == 0x80000u && (mantissa & 1u))) ++mantissa;
  if (mantissa == 8) {
    mantissa = 0;
    ++exponent;
  }
  return static_cast<std::uint8_t>(sign | (static_cast<std::uint32_t>(exponent + 7) << 3) | mantissa);
}

}  // namespace kvplan::kernels
