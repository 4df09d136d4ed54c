// pytorch_model.bin readers.
//  - zip format (torch >= 1.6): "<prefix>/data.pkl" (the state-dict pickle), "<prefix>/data/<key>" (one entry per
//    storage, raw little-endian elements), "<prefix>/byteorder" (optional, "little"). Read with libzip.
//  - legacy format: pickles of the magic number, the protocol version and sys_info, then the state-dict pickle,
//    then a pickled list of storage keys, then for each key an int64 element count followed by the raw elements.
#include <zip.h>

#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "export/checkpoint/detail.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters {

namespace {

bool is_zip(std::span<const std::uint8_t> b) {
  return b.size() >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

// ---------------------------------------------------------------------------------------------------------------
// zip

struct ZipArchive {
  zip_t* z = nullptr;
  ~ZipArchive() {
    if (z) zip_discard(z);
  }
};

std::string zip_error_message(zip_error_t* err) {
  std::string msg = zip_error_strerror(err);
  return msg;
}

StateDict load_zip(std::span<const std::uint8_t> bytes, const std::string& source) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (!src) {
    std::string m = zip_error_message(&err);
    zip_error_fini(&err);
    throw FileFormatError(source + ": cannot read zip archive: " + m);
  }
  ZipArchive archive;
  archive.z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!archive.z) {
    zip_source_free(src);
    std::string m = zip_error_message(&err);
    zip_error_fini(&err);
    throw FileFormatError(source + ": corrupt zip archive (truncated pytorch_model.bin?): " + m);
  }
  zip_error_fini(&err);

  // Locate "<prefix>/data.pkl" (prefix is the archive name torch chose: "archive", "pytorch_model", ...).
  const zip_int64_t n = zip_get_num_entries(archive.z, 0);
  std::optional<std::string> prefix;
  for (zip_int64_t k = 0; k < n; ++k) {
    const char* name = zip_get_name(archive.z, static_cast<zip_uint64_t>(k), 0);
    if (!name) continue;
    const std::string s(name);
    const std::string suffix = "data.pkl";
    if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string p = s.substr(0, s.size() - suffix.size());
      if (p.empty() || (p.back() == '/' && p.find('/') == p.size() - 1)) {
        prefix = p;
        break;
      }
    }
  }
  if (!prefix) throw FileFormatError(source + ": zip archive has no data.pkl: not a torch checkpoint");

  const zip_uint64_t total = bytes.size();
  auto read_entry = [&](const std::string& name, std::optional<std::size_t> expected) -> std::shared_ptr<std::uint8_t> {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive.z, name.c_str(), 0, &st) != 0) {
      throw FileFormatError(source + ": zip entry " + name + " is missing");
    }
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) {
      throw FileFormatError(source + ": zip entry " + name + " has no size");
    }
    if (expected && st.size != *expected) {
      throw FileFormatError(source + ": zip entry " + name + " holds " + std::to_string(st.size) + " bytes, expected " +
                            std::to_string(*expected));
    }
    // Bound the allocation by what the archive can hold (deflate expands at most ~1032x).
    const zip_uint64_t cap = st.comp_method == ZIP_CM_STORE ? total : total * 1100;
    if (st.size > cap) {
      throw FileFormatError(source + ": zip entry " + name + " claims " + std::to_string(st.size) +
                            " bytes, more than the archive can hold");
    }
    auto buffer = detail::make_buffer(static_cast<std::size_t>(st.size));
    zip_file_t* f = zip_fopen(archive.z, name.c_str(), 0);
    if (!f) throw FileFormatError(source + ": cannot open zip entry " + name + ": " + zip_strerror(archive.z));
    zip_uint64_t got = 0;
    while (got < st.size) {
      const zip_int64_t r = zip_fread(f, buffer.get() + got, st.size - got);
      if (r <= 0) break;
      got += static_cast<zip_uint64_t>(r);
    }
    const bool ok = got == st.size;
    std::string ferr = ok ? "" : zip_file_strerror(f);
    zip_fclose(f);
    if (!ok) throw FileFormatError(source + ": zip entry " + name + " is truncated or corrupt: " + ferr);
    return buffer;
  };

  zip_stat_t pst;
  zip_stat_init(&pst);
  const std::string pkl_name = *prefix + "data.pkl";
  if (zip_stat(archive.z, pkl_name.c_str(), 0, &pst) != 0 || !(pst.valid & ZIP_STAT_SIZE)) {
    throw FileFormatError(source + ": cannot stat " + pkl_name);
  }
  const auto pkl_size = static_cast<std::size_t>(pst.size);
  auto pkl = read_entry(pkl_name, std::nullopt);

  // byteorder: absent (old writers) or "little".
  const std::string bo_name = *prefix + "byteorder";
  if (zip_name_locate(archive.z, bo_name.c_str(), 0) >= 0) {
    zip_stat_t bst;
    zip_stat_init(&bst);
    if (zip_stat(archive.z, bo_name.c_str(), 0, &bst) == 0 && (bst.valid & ZIP_STAT_SIZE) && bst.size <= 16) {
      auto bo = read_entry(bo_name, std::nullopt);
      const std::string order(reinterpret_cast<const char*>(bo.get()), static_cast<std::size_t>(bst.size));
      if (order != "little") {
        throw UnsupportedError(source + ": checkpoint byteorder is '" + order + "', only little-endian is supported");
      }
    } else {
      throw FileFormatError(source + ": unreadable " + bo_name);
    }
  }

  const std::string data_prefix = *prefix + "data/";
  StorageResolver resolve = [&](const std::string& key, DType dtype, std::int64_t numel) -> PickleStorage {
    const std::size_t nbytes =
        detail::checked_mul(static_cast<std::size_t>(numel), dtype_size(dtype), source + ": storage " + key);
    if (key.empty() || key.find('/') != std::string::npos) {
      throw FileFormatError(source + ": invalid storage key '" + key + "'");
    }
    auto buffer = read_entry(data_prefix + key, nbytes);
    PickleStorage s;
    s.data = buffer.get();
    s.nbytes = nbytes;
    s.owner = std::move(buffer);
    return s;
  };
  return load_state_dict_pickle({pkl.get(), pkl_size}, resolve, source);
}

// ---------------------------------------------------------------------------------------------------------------
// legacy

StateDict load_legacy(std::span<const std::uint8_t> bytes, const std::string& source,
                      const std::shared_ptr<void>& owner) {
  // Magic number pickle: PROTO 2, LONG1 of 10 bytes (0x1950a86a20f9469cfc6c), STOP.
  static const std::uint8_t kMagic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  if (bytes.size() < 2 + sizeof kMagic || bytes[0] != 0x80 ||
      std::memcmp(bytes.data() + 2, kMagic, sizeof kMagic) != 0) {
    throw FileFormatError(source +
                          ": not a PyTorch checkpoint (neither a zip archive nor the legacy format's magic number)");
  }
  std::size_t pos = 2 + sizeof kMagic;
  pos += detail::skip_pickle(bytes.subspan(pos), source + " (protocol version)");
  pos += detail::skip_pickle(bytes.subspan(pos), source + " (sys_info)");
  const std::size_t pickle_start = pos;

  // Storages follow the storage key list in key order, each an int64 element count then the raw elements; their
  // element sizes are those the state-dict pickle gives each key, so the layout is computed once it is parsed.
  std::map<std::string, PickleStorage> located;
  detail::StorageLayout layout = [&](const std::map<std::string, detail::StorageInfo>& storages,
                                     std::size_t pickle_end) {
    std::size_t p = pickle_start + pickle_end;
    std::size_t consumed = 0;
    const std::vector<std::string> keys =
        detail::unpickle_string_list(bytes.subspan(p), source + " (storage key list)", &consumed);
    p += consumed;
    for (const auto& key : keys) {
      auto info = storages.find(key);
      if (info == storages.end()) {
        throw FileFormatError(source + ": legacy storage '" + key + "' is not referenced by the state dict");
      }
      if (located.count(key)) throw FileFormatError(source + ": legacy storage '" + key + "' listed twice");
      if (bytes.size() - p < 8) {
        throw FileFormatError(source + ": legacy torch file truncated at the storage of '" + key + "'");
      }
      std::int64_t count;
      std::memcpy(&count, bytes.data() + p, 8);
      p += 8;
      if (count != info->second.numel) {
        throw FileFormatError(source + ": legacy storage '" + key + "' holds " + std::to_string(count) +
                              " elements, the pickle says " + std::to_string(info->second.numel));
      }
      const std::size_t nbytes = static_cast<std::size_t>(count) * dtype_size(info->second.dtype);
      if (nbytes > bytes.size() - p) {
        throw FileFormatError(source + ": legacy torch file truncated in the storage of '" + key + "' (needs " +
                              std::to_string(nbytes) + " bytes, " + std::to_string(bytes.size() - p) + " left)");
      }
      PickleStorage s;
      s.data = bytes.data() + p;
      s.nbytes = nbytes;
      s.owner = owner;
      if (!owner) {  // in-memory input: copy out
        auto buffer = detail::make_buffer(nbytes);
        if (nbytes) std::memcpy(buffer.get(), s.data, nbytes);
        s.data = buffer.get();
        s.owner = std::move(buffer);
      }
      located[key] = std::move(s);
      p += nbytes;
    }
  };
  StorageResolver resolve = [&](const std::string& key, DType, std::int64_t) -> PickleStorage {
    auto it = located.find(key);
    if (it == located.end()) {
      throw FileFormatError(source + ": legacy storage '" + key + "' is missing from the storage key list");
    }
    return it->second;
  };
  return detail::unpickle_state_dict(bytes.subspan(pickle_start), resolve, source, layout);
}

}  // namespace

StateDict load_pytorch_bin_from_memory(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (is_zip(bytes)) return load_zip(bytes, source);
  return load_legacy(bytes, source, nullptr);
}

StateDict load_pytorch_bin(const std::filesystem::path& file) {
  auto mapped = detail::MappedFile::open(file);
  if (is_zip(mapped->bytes())) return load_zip(mapped->bytes(), file.string());
  return load_legacy(mapped->bytes(), file.string(), mapped);
}

}  // namespace ortformers::exporters
