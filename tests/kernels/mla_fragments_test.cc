// The absorbed kernel's tensor-core plumbing, checked on the host: ldmatrix and mma.sync m16n8k16
// emulated per lane as the PTX ISA specifies them (written here, independently of the kernel), fed
// with the lane addresses, swizzle and accumulator maps of kernels/mla_tiling.h that the kernel
// uses. S = Q K^T and O = P V computed through the fragments must equal the plain products, every
// ldmatrix must be free of bank conflicts, and a wrong address map must be caught.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "kernels/mla_tiling.h"
#include "kernels/numeric.h"

using namespace kvplan::kernels;
using namespace kvplan::kernels::mla;

namespace {

using Regs = std::array<std::array<float, 8>, 32>;  // per lane: 4 registers x 2 halves (lo, hi)

// A bf16 tile in shared-memory layout (swizzled rows of `row_bytes`), with the plain values beside it.
struct Tile {
  int rows, cols, row_bytes;
  std::vector<std::uint8_t> bytes;
  std::vector<float> values;  // [row][col]

  Tile(int r, int c, std::mt19937& rng) : rows(r), cols(c), row_bytes(2 * c), bytes(static_cast<std::size_t>(r) * 2 * c), values(static_cast<std::size_t>(r) * c) {
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        const float v = static_cast<float>(static_cast<int>(rng() % 255) - 127) / 64.0f;
        values[static_cast<std::size_t>(i) * cols + j] = v;
        const std::uint16_t bits = float_to_bf16(v);
        std::memcpy(&bytes[static_cast<std::size_t>(tile_offset(i, j, row_bytes))], &bits, 2);
      }
    }
  }
  float at(int r, int c) const { return values[static_cast<std::size_t>(r) * cols + c]; }
  float load(int byte) const {
    std::uint16_t bits;
    std::memcpy(&bits, &bytes[static_cast<std::size_t>(byte)], 2);
    return bf16_to_float(bits);
  }
};

// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16: lanes 8i..8i+7 give the row addresses of matrix
// i; lane T receives in register i the elements (T / 4, 2 (T % 4) + {0, 1}) of matrix i, or with
// .trans the elements (2 (T % 4) + {0, 1}, T / 4).
Regs ldmatrix_x4(const Tile& tile, const std::array<int, 32>& address, bool trans) {
  Regs regs{};
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 4; ++i) {
      for (int half = 0; half < 2; ++half) {
        const int row = trans ? 2 * (lane % 4) + half : lane / 4;
        const int col = trans ? lane / 4 : 2 * (lane % 4) + half;
        regs[static_cast<std::size_t>(lane)][static_cast<std::size_t>(2 * i + half)] =
            tile.load(address[static_cast<std::size_t>(8 * i + row)] + 2 * col);
      }
    }
  }
  return regs;
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, g = lane / 4, t = lane % 4:
// A regs (a0 a1) (g, 2t..), (a2 a3) (g + 8, 2t..), (a4 a5) (g, 2t + 8..), (a6 a7) (g + 8, 2t + 8..);
// B regs (b0 b1) (k 2t.., n g), (b2 b3) (k 2t + 8.., n g); C (c0 c1) (g, 2t..), (c2 c3) (g + 8, 2t..).
// b_first picks which two of the B lane's registers hold this n8 tile.
std::array<std::array<float, 8>, 16> mma(const Regs& a, const Regs& b, int b_first) {
  float A[16][16], B[16][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const auto& ra = a[static_cast<std::size_t>(lane)];
    const auto& rb = b[static_cast<std::size_t>(lane)];
    for (int half = 0; half < 2; ++half) {
      A[g][2 * t + half] = ra[0 + half];
      A[g + 8][2 * t + half] = ra[2 + half];
      A[g][2 * t + 8 + half] = ra[4 + half];
      A[g + 8][2 * t + 8 + half] = ra[6 + half];
      B[2 * t + half][g] = rb[static_cast<std::size_t>(2 * b_first + half)];
      B[2 * t + 8 + half][g] = rb[static_cast<std::size_t>(2 * b_first + 2 + half)];
    }
  }
  std::array<std::array<float, 8>, 16> d{};
  for (int m = 0; m < 16; ++m) {
    for (int n = 0; n < 8; ++n) {
      double sum = 0;
      for (int k = 0; k < 16; ++k) sum += double{A[m][k]} * B[k][n];
      d[static_cast<std::size_t>(m)][static_cast<std::size_t>(n)] = static_cast<float>(sum);
    }
  }
  return d;
}

std::array<int, 32> addresses(const Tile& tile, int row0, int col0, int (*row_of)(int), int (*col_of)(int)) {
  std::array<int, 32> address{};
  for (int lane = 0; lane < 32; ++lane) {
    address[static_cast<std::size_t>(lane)] = tile_offset(row0 + row_of(lane), col0 + col_of(lane), tile.row_bytes);
  }
  return address;
}

// The 8 rows of each matrix must fall on 8 different 16-byte bank groups.
bool conflict_free(const std::array<int, 32>& address) {
  for (int i = 0; i < 4; ++i) {
    std::set<int> groups;
    for (int r = 0; r < 8; ++r) groups.insert(address[static_cast<std::size_t>(8 * i + r)] / 16 % 8);
    if (groups.size() != 8) return false;
  }
  return true;
}

using Acc = std::array<std::array<float, 8>, 16>;

// D += A B for the two n8 tiles whose B fragments one ldmatrix.x4 loaded (registers 0-1, then 2-3).
void accumulate(Acc (&acc)[2], const Regs& a, const Regs& b) {
  for (int tile = 0; tile < 2; ++tile) {
    const auto d = mma(a, b, 2 * tile);
    for (int m = 0; m < 16; ++m) {
      for (int n = 0; n < 8; ++n) acc[tile][static_cast<std::size_t>(m)][static_cast<std::size_t>(n)] += d[static_cast<std::size_t>(m)][static_cast<std::size_t>(n)];
    }
  }
}

// The 16 x 16 result against want(m, n).
template <typename Want>
bool matches(const Acc (&acc)[2], Want&& want) {
  bool ok = true;
  for (int m = 0; m < 16; ++m) {
    for (int n = 0; n < 16; ++n) {
      const double expected = want(m, n);
      ok &= std::abs(acc[n / 8][static_cast<std::size_t>(m)][static_cast<std::size_t>(n % 8)] - expected) < 1e-3 * (1 + std::abs(expected));
    }
  }
  return ok;
}

// S[16 heads, tokens n0 .. n0 + 15] = Q K^T through fragments, K = 576.
bool scores_match(const Tile& q, const Tile& latent, int n0, int (*row_of)(int), int (*col_of)(int), bool trans) {
  Acc acc[2]{};
  for (int kk = 0; kk < kRowDim / kMmaK; ++kk) {
    const auto b_address = addresses(latent, n0, kk * kMmaK, row_of, col_of);
    CHECK(conflict_free(b_address));
    accumulate(acc, ldmatrix_x4(q, addresses(q, 0, kk * kMmaK, ldsm_a_row, ldsm_a_col), false),
               ldmatrix_x4(latent, b_address, trans));
  }
  return matches(acc, [&](int m, int n) {
    double sum = 0;
    for (int k = 0; k < kRowDim; ++k) sum += double{q.at(m, k)} * latent.at(n0 + n, k);
    return sum;
  });
}

// O[16 heads, latent columns c0 .. c0 + 15] = P V through fragments, K = 64 tokens.
bool outputs_match(const Tile& p, const Tile& latent, int c0, int (*row_of)(int), int (*col_of)(int), bool trans) {
  Acc acc[2]{};
  for (int kk = 0; kk < kTileTokens / kMmaK; ++kk) {
    const auto a_address = addresses(p, 0, kk * kMmaK, ldsm_a_row, ldsm_a_col);
    CHECK(conflict_free(a_address));
    accumulate(acc, ldmatrix_x4(p, a_address, false), ldmatrix_x4(latent, addresses(latent, kk * kMmaK, c0, row_of, col_of), trans));
  }
  return matches(acc, [&](int m, int n) {
    double sum = 0;
    for (int k = 0; k < kTileTokens; ++k) sum += double{p.at(m, k)} * latent.at(k, c0 + n);
    return sum;
  });
}

}  // namespace

TEST_CASE("S = Q K^T through ldmatrix and mma fragments equals the plain product") {
  std::mt19937 rng(1);
  const Tile q(16, kRowDim, rng), latent(kTileTokens, kRowDim, rng);
  for (int n0 : {0, 16, 48}) CHECK(scores_match(q, latent, n0, ldsm_bt_row, ldsm_bt_col, false));
}

TEST_CASE("O = P V through ldmatrix.trans and mma fragments equals the plain product") {
  std::mt19937 rng(2);
  const Tile p(16, kTileTokens, rng), latent(kTileTokens, kRowDim, rng);
  for (int c0 : {0, 64, 496}) CHECK(outputs_match(p, latent, c0, ldsm_v_row, ldsm_v_col, true));
}

TEST_CASE("a wrong fragment map is caught") {
  std::mt19937 rng(3);
  const Tile p(16, kTileTokens, rng), latent(kTileTokens, kRowDim, rng), q(16, kRowDim, rng);
  // V loaded with the K^T addresses and no transpose, or K^T with the V ones.
  CHECK_FALSE(outputs_match(p, latent, 0, ldsm_bt_row, ldsm_bt_col, false));
  CHECK_FALSE(scores_match(q, latent, 0, ldsm_v_row, ldsm_v_col, true));
}

TEST_CASE("accumulator map: every element of a 16x8 tile once, where mma puts it") {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 4; ++i) {
      seen.insert({acc_row(lane, i), acc_col(lane, i)});
      CHECK(acc_row(lane, i) == lane / 4 + (i >= 2 ? 8 : 0));   // c0 c1 row g, c2 c3 row g + 8
      CHECK(acc_col(lane, i) == 2 * (lane % 4) + (i & 1));      // columns 2t and 2t + 1
    }
  }
  CHECK(seen.size() == 16 * 8);
}

TEST_CASE("absorbed tile load: every chunk of every row copied once, one block-table read per row") {
  for (const int row_bytes : {kBf16RowBytes, kFp8RowBytes}) {
    const int chunks = row_bytes / 16;  // 72 (bf16), 41 (fp8_ds_mla)
    std::vector<int> copies(static_cast<std::size_t>(kTileTokens) * chunks, 0);
    int table_reads = 0;
    for (int thread = 0; thread < kThreads; ++thread) {
      // The team's first lane reads the page, and a team never straddles a warp (its shuffle source).
      const int source = thread / 32 * 32 + thread % 32 / kLoadLanesPerRow * kLoadLanesPerRow;
      CHECK(load_row(source) == load_row(thread));
      CHECK(reads_block_table(source));
      table_reads += reads_block_table(thread);
      for (int chunk = load_first_chunk(thread); chunk < chunks; chunk += kLoadLanesPerRow) {
        ++copies[static_cast<std::size_t>(load_row(thread)) * chunks + chunk];
      }
    }
    CHECK(std::count(copies.begin(), copies.end(), 1) == kTileTokens * chunks);
    // One read per row: 64 per tile, where a read per chunk made 64 x 72 = 4608 (bf16), 72x more.
    CHECK(table_reads == kTileTokens);
    CHECK(kTileTokens * chunks / table_reads == (row_bytes == kBf16RowBytes ? 72 : 41));
  }
}
