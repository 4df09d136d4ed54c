#include "hub/hashing.hpp"

#include <cstring>
#include <fstream>
#include <vector>

#include "ortformers/core/error.hpp"

namespace ortformers::hub::detail {
namespace {

constexpr std::uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}
inline std::uint32_t rotl(std::uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

std::string to_hex(const std::uint32_t* words, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 8);
  for (std::size_t i = 0; i < n; ++i)
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(digits[(words[i] >> shift) & 0xf]);
  return out;
}

// Shared Merkle-Damgard buffering for both hashes (64-byte blocks, big-endian bit length).
template <typename Hash>
void md_update(Hash& h, std::array<std::uint8_t, 64>& buf, std::size_t& buf_len, std::uint64_t& total, const void* data,
               std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  total += size;
  if (buf_len > 0) {
    std::size_t take = std::min(size, 64 - buf_len);
    std::memcpy(buf.data() + buf_len, p, take);
    buf_len += take;
    p += take;
    size -= take;
    if (buf_len == 64) {
      h(buf.data());
      buf_len = 0;
    }
  }
  while (size >= 64) {
    h(p);
    p += 64;
    size -= 64;
  }
  if (size > 0) {
    std::memcpy(buf.data(), p, size);
    buf_len = size;
  }
}

template <typename Hash>
void md_finish(Hash& h, std::array<std::uint8_t, 64>& buf, std::size_t& buf_len, std::uint64_t total) {
  std::uint64_t bits = total * 8;
  buf[buf_len++] = 0x80;
  if (buf_len > 56) {
    std::memset(buf.data() + buf_len, 0, 64 - buf_len);
    h(buf.data());
    buf_len = 0;
  }
  std::memset(buf.data() + buf_len, 0, 56 - buf_len);
  for (int i = 0; i < 8; ++i) buf[56 + i] = std::uint8_t(bits >> (56 - 8 * i));
  h(buf.data());
  buf_len = 0;
}

template <typename H>
std::string hash_file(const std::filesystem::path& path, H& hasher) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFoundError("cannot open '" + path.string() + "' to compute its checksum");
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    if (in.gcount() > 0) hasher.update(chunk.data(), std::size_t(in.gcount()));
  }
  if (in.bad()) throw RuntimeError("read error on '" + path.string() + "' while computing its checksum");
  return hasher.hexdigest();
}

}  // namespace

Sha256::Sha256() : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::block(const std::uint8_t* p) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i) w[i] = load_be32(p + 4 * i);
  for (int i = 16; i < 64; ++i) {
    std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    std::uint32_t ch = (e & f) ^ (~e & g);
    std::uint32_t t1 = h + s1 + ch + kSha256K[i] + w[i];
    std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    std::uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, std::size_t size) {
  auto fn = [this](const std::uint8_t* p) { block(p); };
  md_update(fn, buf_, buf_len_, total_, data, size);
}

std::string Sha256::hexdigest() {
  auto fn = [this](const std::uint8_t* p) { block(p); };
  md_finish(fn, buf_, buf_len_, total_);
  return to_hex(h_.data(), h_.size());
}

Sha1::Sha1() : h_{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0} {}

void Sha1::block(const std::uint8_t* p) {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) w[i] = load_be32(p + 4 * i);
  for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::update(const void* data, std::size_t size) {
  auto fn = [this](const std::uint8_t* p) { block(p); };
  md_update(fn, buf_, buf_len_, total_, data, size);
}

std::string Sha1::hexdigest() {
  auto fn = [this](const std::uint8_t* p) { block(p); };
  md_finish(fn, buf_, buf_len_, total_);
  return to_hex(h_.data(), h_.size());
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hexdigest();
}

std::string sha256_file(const std::filesystem::path& path) {
  Sha256 h;
  return hash_file(path, h);
}

std::string git_blob_sha1_hex(std::string_view data) {
  Sha1 h;
  std::string header = "blob " + std::to_string(data.size());
  h.update(header.data(), header.size() + 1);  // includes the terminating NUL
  h.update(data);
  return h.hexdigest();
}

std::string git_blob_sha1_file(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw NotFoundError("cannot read the size of '" + path.string() + "': " + ec.message());
  Sha1 h;
  std::string header = "blob " + std::to_string(size);
  h.update(header.data(), header.size() + 1);
  return hash_file(path, h);
}

}  // namespace ortformers::hub::detail
