#pragma once
// Streaming SHA-256 (the hub's ETag of LFS files) and SHA-1 (git blob ids, the ETag of regular files), computed by
// OpenSSL's EVP digests (which use the CPU's SHA instructions where it has them).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace ortformers::hub::detail {

// A message digest fed in pieces. RuntimeError if OpenSSL fails (out of memory, a FIPS provider without the digest).
class Digest {
 public:
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hexdigest();  // finalises; the object must not be updated afterwards

 protected:
  explicit Digest(const char* algorithm);  // "SHA256", "SHA1"

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
  const char* algorithm_;
};

class Sha256 : public Digest {
 public:
  Sha256() : Digest("SHA256") {}
};

class Sha1 : public Digest {
 public:
  Sha1() : Digest("SHA1") {}
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& path);
// git's blob id: sha1("blob <size>\0" + content), what the hub sends as ETag for files not stored with LFS.
std::string git_blob_sha1_hex(std::string_view data);
std::string git_blob_sha1_file(const std::filesystem::path& path);

}  // namespace ortformers::hub::detail
