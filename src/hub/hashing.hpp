#pragma once
// Streaming SHA-256 (the hub's ETag of LFS files) and SHA-1 (git blob ids, the ETag of regular files).
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ortformers::hub::detail {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hexdigest();  // finalises; the object must not be updated afterwards

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

class Sha1 {
 public:
  Sha1();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hexdigest();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 5> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& path);
// git's blob id: sha1("blob <size>\0" + content), what the hub sends as ETag for files not stored with LFS.
std::string git_blob_sha1_hex(std::string_view data);
std::string git_blob_sha1_file(const std::filesystem::path& path);

}  // namespace ortformers::hub::detail
