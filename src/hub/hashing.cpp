#include "hub/hashing.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "ortformers/core/error.hpp"

namespace ortformers::hub::detail {
namespace {

std::string hash_file(const std::filesystem::path& path, Digest& hasher) {
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

void Digest::Free::operator()(evp_md_ctx_st* ctx) const noexcept {
  EVP_MD_CTX_free(ctx);
}

Digest::Digest(const char* algorithm) : ctx_(EVP_MD_CTX_new()), algorithm_(algorithm) {
  const EVP_MD* md = EVP_get_digestbyname(algorithm);
  if (!ctx_ || md == nullptr || EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1)
    throw RuntimeError(std::string("OpenSSL cannot start a ") + algorithm + " digest");
}

void Digest::update(const void* data, std::size_t size) {
  if (size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1)
    throw RuntimeError(std::string("OpenSSL ") + algorithm_ + " digest update failed");
}

std::string Digest::hexdigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1)
    throw RuntimeError(std::string("OpenSSL ") + algorithm_ + " digest final failed");
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 0xf]);
  }
  return out;
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
