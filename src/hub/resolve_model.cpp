// resolve_model / snapshot_download / repo_info: which files a model needs, cache-first, as the Python libraries
// pick them (transformers: config + tokenizer files + safetensors or PyTorch weights and their shards;
// optimum: the ONNX file and its external data; sentence-transformers: modules.json and the module folders).
#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "hub/cache_layout.hpp"
#include "hub/file_download.hpp"
#include "ortformers/hub/constants.hpp"
#include "ortformers/hub/hub.hpp"
#include "ortformers/hub/validators.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ortformers::hub {
namespace {

using detail::Context;

// Config, tokenizer, preprocessor and sentence-transformers files, fetched when the repo has them.
const std::vector<std::string> kMetadataFiles = {"config.json",
                                                 "generation_config.json",
                                                 "preprocessor_config.json",
                                                 "processor_config.json",
                                                 "tokenizer.json",
                                                 "tokenizer_config.json",
                                                 "special_tokens_map.json",
                                                 "added_tokens.json",
                                                 "vocab.txt",
                                                 "vocab.json",
                                                 "merges.txt",
                                                 "spiece.model",
                                                 "sentencepiece.bpe.model",
                                                 "tokenizer.model",
                                                 "source.spm",
                                                 "target.spm",
                                                 "chat_template.json",
                                                 "chat_template.jinja",
                                                 "modules.json",
                                                 "config_sentence_transformers.json",
                                                 "sentence_bert_config.json",
                                                 "ort_config.json"};
const std::vector<std::string> kWeightCandidates = {"model.onnx",        "onnx/model.onnx",
                                                    "model.safetensors", "model.safetensors.index.json",
                                                    "pytorch_model.bin", "pytorch_model.bin.index.json"};
const std::vector<std::string> kQuantizedSuffixes = {"_quantized", "_fp16", "_int8", "_uint8", "_q4",
                                                     "_q4f16",     "_bnb4", "_q8",   "_fp8"};

// The API is missing on this server (a plain file mirror): fall back to probing well-known file names.
struct ApiUnavailable : RuntimeError {
  using RuntimeError::RuntimeError;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string parent_of(const std::string& f) {
  auto slash = f.rfind('/');
  return slash == std::string::npos ? "" : f.substr(0, slash);
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw NotFoundError("cannot open '" + p.string() + "'");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw FileFormatError("'" + p.string() + "' is not valid JSON: " + e.what());
  }
}

// Shard file names listed in a *.index.json weight_map (relative to the index's folder).
std::vector<std::string> index_shards(const fs::path& index_file, const std::string& index_name) {
  json j = read_json(index_file);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw FileFormatError("'" + index_file.string() + "' has no object field 'weight_map'");
  std::set<std::string> shards;
  std::string dir = parent_of(index_name);
  for (auto& [k, v] : j["weight_map"].items()) {
    if (!v.is_string()) throw FileFormatError("'" + index_file.string() + "': weight_map['" + k + "'] is not a string");
    std::string f = dir.empty() ? v.get<std::string>() : dir + "/" + v.get<std::string>();
    validate_filename(f);
    shards.insert(f);
  }
  return {shards.begin(), shards.end()};
}

// Module folders listed in a sentence-transformers modules.json ("" = the root module).
std::vector<std::string> module_paths(const fs::path& modules_file) {
  json j = read_json(modules_file);
  std::vector<std::string> out;
  if (!j.is_array()) throw FileFormatError("'" + modules_file.string() + "' is not a JSON array of modules");
  for (auto& m : j) {
    if (!m.is_object() || !m.contains("path") || !m["path"].is_string()) continue;
    std::string p = m["path"].get<std::string>();
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (p.empty()) continue;
    validate_filename(p);
    out.push_back(p);
  }
  return out;
}

bool is_quantized_variant(const std::string& onnx_file) {
  std::string stem = onnx_file.substr(0, onnx_file.size() - 5);
  for (const auto& s : kQuantizedSuffixes)
    if (ends_with(stem, s)) return true;
  return false;
}

// The ONNX file(s) optimum would load: file_name when given, else model.onnx (root, then onnx/), else the
// non-quantized .onnx files of the first folder holding any (encoder/decoder exports have several).
std::vector<std::string> choose_onnx(const std::set<std::string>& names, const std::optional<std::string>& file_name) {
  if (file_name) {
    if (names.count(*file_name)) return {*file_name};
    if (names.count("onnx/" + *file_name)) return {"onnx/" + *file_name};
    return {};
  }
  for (const char* folder_c : {"", "onnx"}) {
    const std::string folder = folder_c;
    std::vector<std::string> in_folder;
    for (const auto& n : names)
      if (ends_with(n, ".onnx") && parent_of(n) == folder) in_folder.push_back(n);
    if (in_folder.empty()) continue;
    std::string model = folder.empty() ? "model.onnx" : folder + "/model.onnx";
    if (names.count(model)) return {model};
    std::vector<std::string> plain;
    for (const auto& f : in_folder)
      if (!is_quantized_variant(f)) plain.push_back(f);
    return plain.empty() ? in_folder : plain;
  }
  return {};
}

// External data next to an ONNX file: <file>_data, <file>.data and numbered variants.
std::vector<std::string> onnx_external_data(const std::set<std::string>& names, const std::string& onnx) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (n != onnx && (n.rfind(onnx + "_data", 0) == 0 || n == onnx + ".data")) out.push_back(n);
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

bool fnmatch_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (auto p : patterns) {
    if (!p.empty() && p.back() == '/') p += "*";
    if (::fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

bool allowed(const HubOptions& o, const std::string& name) {
  if (!o.allow_patterns.empty() && !fnmatch_any(o.allow_patterns, name)) return false;
  if (!o.ignore_patterns.empty() && fnmatch_any(o.ignore_patterns, name)) return false;
  return true;
}

RepoInfo fetch_repo_info(const Context& ctx, const std::string& revision) {
  std::string url =
      ctx.endpoint + "/api/" + ctx.repo_type + "s/" + ctx.repo_id + "/revision/" + detail::url_quote(revision, "");
  detail::HttpResult r;
  for (int attempt = 0;; ++attempt) {
    detail::HttpRequest req;
    req.url = url;
    req.headers = detail::auth_headers(ctx);
    req.timeout_s = ctx.timeout_s;
    req.follow_redirects = true;
    req.max_body = 64u << 20;
    r = detail::http_request(req);
    bool retry = (!r.ok_transport() && r.transient_transport_error() && r.curl_code != 28) ||
                 (r.ok_transport() && (r.status == 429 || r.status >= 500));
    if (retry && attempt < ctx.options->max_retries) {
      detail::backoff_sleep(attempt);
      continue;
    }
    break;
  }
  std::string what = "the file list of '" + ctx.repo_id + "' at revision '" + revision + "'";
  if (!r.ok_transport()) detail::raise_transport(ctx, r, what, url);
  bool has_code = r.headers.get("x-error-code").has_value();
  if ((r.status == 404 || r.status == 405 || r.status == 501) && !has_code)
    throw ApiUnavailable("no repo API at " + url);
  if (r.status >= 400) detail::raise_for_status(ctx, r, what, url);
  json j;
  try {
    j = json::parse(r.body);
  } catch (const json::exception&) {
    throw ApiUnavailable("the answer of " + url + " is not JSON");
  }
  if (!j.is_object()) throw ApiUnavailable("the answer of " + url + " is not a JSON object");
  RepoInfo info;
  info.id = j.value("id", ctx.repo_id);
  if (!j.contains("sha") || !j["sha"].is_string() || !is_commit_hash(j["sha"].get<std::string>()))
    throw FileFormatError("the repo API answer of " + url + " has no valid 'sha' commit hash");
  info.sha = j["sha"].get<std::string>();
  if (j.contains("siblings") && j["siblings"].is_array()) {
    for (const auto& s : j["siblings"]) {
      if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
        throw FileFormatError("the repo API answer of " + url + " has a sibling without a string 'rfilename'");
      RepoSibling sib;
      sib.rfilename = s["rfilename"].get<std::string>();
      try {
        validate_filename(sib.rfilename);
      } catch (const InvalidArgument& e) {
        throw FileFormatError("the repo API answer of " + url + " lists an unsafe file name: " + e.what());
      }
      if (s.contains("size") && s["size"].is_number_unsigned()) sib.size = s["size"].get<std::uint64_t>();
      info.siblings.push_back(std::move(sib));
    }
  }
  return info;
}

// What is still missing in a cached snapshot for resolve_model's needs; empty when it can be used as-is.
std::vector<std::string> missing_model_files(const fs::path& storage, const std::string& commit, const HubOptions& o) {
  fs::path snap = storage / "snapshots" / commit;
  auto present = [&](const std::string& f) { return path_exists(snap / f); };
  auto absent = [&](const std::string& f) { return path_exists(detail::no_exist_path(storage, commit, f)); };
  std::vector<std::string> missing;
  if (!path_exists(snap)) return {"snapshot folder " + snap.string()};
  if (!present("config.json") && !absent("config.json")) missing.push_back("config.json");
  auto index_complete = [&](const std::string& index) {
    if (!present(index)) return false;
    try {
      for (const auto& s : index_shards(snap / index, index))
        if (!present(s)) return false;
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  auto has_onnx = [&] {
    for (const fs::path& dir : {snap, snap / "onnx"}) {
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".onnx" && path_exists(e.path())) return true;
    }
    return false;
  };
  if (o.file_name) {
    if (!present(*o.file_name) && !present("onnx/" + *o.file_name)) missing.push_back(*o.file_name);
    return missing;
  }
  bool st = present("model.safetensors") || index_complete("model.safetensors.index.json");
  bool pt = present("pytorch_model.bin") || index_complete("pytorch_model.bin.index.json");
  bool ok = true;
  switch (o.weights) {
    case WeightsFormat::Auto: {
      bool none_exist = std::all_of(kWeightCandidates.begin(), kWeightCandidates.end(), absent);
      ok = has_onnx() || st || pt || none_exist;
      break;
    }
    case WeightsFormat::Onnx: ok = has_onnx(); break;
    case WeightsFormat::Safetensors: ok = st; break;
    case WeightsFormat::PyTorch: ok = pt; break;
    case WeightsFormat::Checkpoint: ok = st || pt; break;
    case WeightsFormat::None: ok = true; break;
  }
  if (!ok)
    missing.push_back(
        "model weights (an .onnx file, model.safetensors[.index.json] + shards or "
        "pytorch_model.bin[.index.json] + shards)");
  return missing;
}

// The files resolve_model fetches, given the repo's file list (modules.json / index files are downloaded on the
// way because they name further files).
std::vector<std::string> select_model_files(const Context& ctx, const RepoInfo& info) {
  const HubOptions& o = *ctx.options;
  std::set<std::string> names;
  for (const auto& s : info.siblings) names.insert(s.rfilename);
  std::vector<std::string> want;
  auto add = [&](const std::string& f) {
    if (std::find(want.begin(), want.end(), f) == want.end()) want.push_back(f);
  };
  for (const auto& f : kMetadataFiles)
    if (names.count(f)) add(f);
  if (names.count("modules.json")) {
    auto p = detail::download_file(ctx, "modules.json", info.sha).path;
    for (const auto& dir : module_paths(p))
      for (const auto& n : names)
        if (n.rfind(dir + "/", 0) == 0) add(n);
  }
  auto add_index = [&](const std::string& index) {
    add(index);
    auto p = detail::download_file(ctx, index, info.sha).path;
    for (const auto& s : index_shards(p, index)) {
      if (!names.count(s))
        throw NotFoundError("'" + index + "' of '" + ctx.repo_id + "' names the shard '" + s +
                            "' which the repo does not have");
      add(s);
    }
  };
  auto onnx = choose_onnx(names, o.file_name);
  if (o.file_name && onnx.empty())
    throw EntryNotFoundError("'" + *o.file_name + "' (file_name) is not in '" + ctx.repo_id + "' at commit " +
                             info.sha);
  bool has_st = names.count("model.safetensors") || names.count("model.safetensors.index.json");
  bool has_pt = names.count("pytorch_model.bin") || names.count("pytorch_model.bin.index.json");
  WeightsFormat fmt = o.weights;
  if (o.file_name) fmt = WeightsFormat::Onnx;
  if (fmt == WeightsFormat::Checkpoint) {
    if (!has_st && !has_pt)
      throw EntryNotFoundError("'" + ctx.repo_id + "' has no safetensors or PyTorch weights at commit " + info.sha +
                               " (files: " + join(std::vector<std::string>(names.begin(), names.end())) + ")");
    fmt = has_st ? WeightsFormat::Safetensors : WeightsFormat::PyTorch;
  }
  if (fmt == WeightsFormat::Auto)
    fmt = !onnx.empty() ? WeightsFormat::Onnx
          : has_st      ? WeightsFormat::Safetensors
          : has_pt      ? WeightsFormat::PyTorch
                        : WeightsFormat::None;
  std::vector<std::string> listing(names.begin(), names.end());
  if (fmt == WeightsFormat::Onnx) {
    if (onnx.empty())
      throw EntryNotFoundError("'" + ctx.repo_id + "' has no ONNX file at commit " + info.sha +
                               " (files: " + join(listing) + "); export it from the weights instead");
    for (const auto& f : onnx) {
      add(f);
      for (const auto& d : onnx_external_data(names, f)) add(d);
    }
  } else if (fmt == WeightsFormat::Safetensors) {
    if (names.count("model.safetensors"))
      add("model.safetensors");
    else if (names.count("model.safetensors.index.json"))
      add_index("model.safetensors.index.json");
    else
      throw EntryNotFoundError("'" + ctx.repo_id + "' has no safetensors weights at commit " + info.sha);
  } else if (fmt == WeightsFormat::PyTorch) {
    if (names.count("pytorch_model.bin"))
      add("pytorch_model.bin");
    else if (names.count("pytorch_model.bin.index.json"))
      add_index("pytorch_model.bin.index.json");
    else
      throw EntryNotFoundError("'" + ctx.repo_id + "' has no PyTorch weights at commit " + info.sha);
  }
  if (want.empty())
    throw EntryNotFoundError("'" + ctx.repo_id + "' at commit " + info.sha +
                             " has none of the files a model needs (files: " + join(listing) + ")");
  // Record the well-known files the repo lacks, as huggingface_hub does after a 404, so the next offline or
  // cache-first lookup knows they are absent rather than missing.
  std::vector<std::string> known = kWeightCandidates;
  known.insert(known.end(), {"config.json", "tokenizer.json", "tokenizer_config.json"});
  for (const auto& f : known)
    if (!names.count(f)) detail::mark_no_exist(ctx.storage, info.sha, f);
  return want;
}

// Without a repo API: try the well-known names one by one; a 404 means "not in this repo".
fs::path probe_model_files(const Context& ctx) {
  const HubOptions& o = *ctx.options;
  std::string rev = o.revision;
  std::optional<std::string> commit;
  auto fetch = [&](const std::string& f) -> std::optional<fs::path> {
    try {
      auto d = detail::download_file(ctx, f, commit ? *commit : rev);
      if (!commit) commit = d.commit;
      return d.path;
    } catch (const EntryNotFoundError&) {
      return std::nullopt;
    }
  };
  for (const auto& f : kMetadataFiles) {
    auto p = fetch(f);
    if (p && f == "modules.json")
      for (const auto& dir : module_paths(*p)) fetch(dir + "/config.json");
  }
  auto fetch_index = [&](const std::string& index) {
    auto p = fetch(index);
    if (!p) return false;
    for (const auto& s : index_shards(*p, index))
      if (!fetch(s))
        throw NotFoundError("'" + index + "' of '" + ctx.repo_id + "' names the shard '" + s +
                            "' which the hub does not have");
    return true;
  };
  auto fetch_onnx = [&](const std::string& f) {
    if (!fetch(f)) return false;
    fetch(f + "_data");
    return true;
  };
  bool got = false;
  if (o.file_name) {
    got = fetch_onnx(*o.file_name) || fetch_onnx("onnx/" + *o.file_name);
    if (!got) throw EntryNotFoundError("'" + *o.file_name + "' (file_name) is not in '" + ctx.repo_id + "'");
  } else {
    auto fmt = o.weights;
    if (fmt == WeightsFormat::Auto || fmt == WeightsFormat::Onnx)
      got = fetch_onnx("model.onnx") || fetch_onnx("onnx/model.onnx");
    bool ckpt = fmt == WeightsFormat::Checkpoint;
    if (!got && (fmt == WeightsFormat::Auto || ckpt || fmt == WeightsFormat::Safetensors))
      got = fetch("model.safetensors").has_value() || fetch_index("model.safetensors.index.json");
    if (!got && (fmt == WeightsFormat::Auto || ckpt || fmt == WeightsFormat::PyTorch))
      got = fetch("pytorch_model.bin").has_value() || fetch_index("pytorch_model.bin.index.json");
    if (!got && fmt != WeightsFormat::Auto && fmt != WeightsFormat::None)
      throw EntryNotFoundError("'" + ctx.repo_id + "' has no weights in the requested format at revision '" + rev +
                               "'");
  }
  if (!commit)
    throw EntryNotFoundError("'" + ctx.repo_id + "' at revision '" + rev + "' has none of the files a model needs (" +
                             join(kMetadataFiles) + ", " + join(kWeightCandidates) + ")");
  return ctx.storage / "snapshots" / *commit;
}

std::optional<fs::path> cached_snapshot(const Context& ctx, const std::string& revision) {
  auto commit = detail::cached_commit(ctx.storage, revision);
  if (!commit) return std::nullopt;
  fs::path snap = ctx.storage / "snapshots" / *commit;
  if (!path_exists(snap)) return std::nullopt;
  return snap;
}

[[noreturn]] void raise_not_cached(const Context& ctx, const std::string& what) {
  throw LocalEntryNotFoundError("cannot find '" + ctx.repo_id + "' (revision '" + ctx.options->revision +
                                "') in the local cache " + ctx.cache_dir.string() + " and " +
                                detail::offline_reason(ctx) + ". Missing: " + what +
                                ". Download it first with network access (ortformers download " + ctx.repo_id + ")");
}

}  // namespace

bool is_local_path(const std::string& id_or_path) {
  if (id_or_path.empty()) return false;
  std::error_code ec;
  return fs::is_directory(fs::path(id_or_path), ec);
}

RepoInfo repo_info(const std::string& repo_id, const HubOptions& options) {
  auto ctx = detail::make_context(repo_id, options);
  if (ctx.offline) throw LocalEntryNotFoundError("cannot list '" + repo_id + "': " + detail::offline_reason(ctx));
  try {
    return fetch_repo_info(ctx, options.revision);
  } catch (const ApiUnavailable& e) {
    throw UnsupportedError(std::string("the hub at ") + ctx.endpoint + " has no repo API: " + e.what());
  }
}

fs::path snapshot_download(const std::string& repo_id, const HubOptions& options) {
  auto ctx = detail::make_context(repo_id, options);
  if (ctx.offline) {
    if (auto snap = cached_snapshot(ctx, options.revision)) return *snap;
    raise_not_cached(ctx, "snapshot for revision '" + options.revision + "' (" +
                              (ctx.storage / "refs" / options.revision).string() + ")");
  }
  RepoInfo info;
  try {
    info = fetch_repo_info(ctx, options.revision);
  } catch (const ApiUnavailable& e) {
    throw UnsupportedError("snapshot_download needs the repo API to list files: " + std::string(e.what()) +
                           "; use resolve_model or hf_hub_download with explicit file names");
  } catch (const RuntimeError&) {
    if (!options.force_download)
      if (auto snap = cached_snapshot(ctx, options.revision)) return *snap;
    throw;
  }
  detail::write_ref(ctx.storage, options.revision, info.sha);
  std::size_t n = 0;
  for (const auto& s : info.siblings) {
    if (!allowed(options, s.rfilename)) continue;
    detail::download_file(ctx, s.rfilename, info.sha);
    ++n;
  }
  fs::path snap = ctx.storage / "snapshots" / info.sha;
  std::error_code ec;
  fs::create_directories(snap, ec);
  if (n == 0 && !options.allow_patterns.empty())
    throw EntryNotFoundError("no file of '" + repo_id + "' at revision '" + options.revision +
                             "' matches the allow patterns " + join(options.allow_patterns));
  return snap;
}

fs::path resolve_model(const std::string& id_or_path, const HubOptions& options) {
  if (is_local_path(id_or_path)) return fs::path(id_or_path);
  if (id_or_path.empty()) throw InvalidArgument("model id or path is empty");
  if (id_or_path[0] == '/' || id_or_path[0] == '~' || id_or_path.rfind("./", 0) == 0 || id_or_path.rfind("../", 0) == 0)
    throw NotFoundError("local model folder '" + id_or_path + "' does not exist");
  auto ctx = detail::make_context(id_or_path, options);
  if (!options.allow_patterns.empty() || !options.ignore_patterns.empty())
    return snapshot_download(id_or_path, options);

  bool trust_cache =
      !options.force_download && (!options.check_for_updates || is_commit_hash(options.revision) || ctx.offline);
  std::optional<std::string> commit = detail::cached_commit(ctx.storage, options.revision);
  std::vector<std::string> missing;
  if (commit) {
    missing = missing_model_files(ctx.storage, *commit, options);
    if (trust_cache && missing.empty()) return ctx.storage / "snapshots" / *commit;
  }
  if (ctx.offline) {
    if (!commit)
      raise_not_cached(ctx, "no snapshot for revision '" + options.revision + "' (" +
                                (ctx.storage / "refs" / options.revision).string() + " does not exist)");
    raise_not_cached(ctx, join(missing) + " in snapshot " + (ctx.storage / "snapshots" / *commit).string());
  }

  RepoInfo info;
  try {
    info = fetch_repo_info(ctx, options.revision);
  } catch (const ApiUnavailable&) {
    return probe_model_files(ctx);
  } catch (const RuntimeError&) {
    // The hub cannot be reached: a complete cached snapshot is still good (huggingface_hub does the same).
    if (commit && missing.empty() && !options.force_download) return ctx.storage / "snapshots" / *commit;
    throw;
  }
  detail::write_ref(ctx.storage, options.revision, info.sha);
  for (const auto& f : select_model_files(ctx, info)) detail::download_file(ctx, f, info.sha);
  return ctx.storage / "snapshots" / info.sha;
}

}  // namespace ortformers::hub
