// Checkpoint readers: safetensors vs pytorch_model.bin parity on every fixture model, the legacy torch format,
// shards, dtype conversions, and refusal of malicious or corrupt files.
#include <gtest/gtest.h>
#include <zip.h>

#include <cstring>
#include <fstream>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;

namespace {

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

std::vector<fs::path> model_dirs_with_bin(const fs::path& fixtures) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fixtures / "models")) {
    if (fs::exists(e.path() / "pytorch_model.bin") && fs::exists(e.path() / "model.safetensors")) out.push_back(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- a minimal safetensors writer -------------------------------------------------------------------------------
struct StEntry {
  std::string name, dtype;
  Shape shape;
  std::vector<std::uint8_t> data;
};
std::vector<std::uint8_t> make_safetensors(const std::vector<StEntry>& entries, std::string extra_header = "") {
  Json h = Json::object();
  std::size_t off = 0;
  for (const auto& e : entries) {
    h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.data.size()}}};
    off += e.data.size();
  }
  std::string header = h.dump();
  if (!extra_header.empty()) header = extra_header;
  while (header.size() % 8) header += ' ';
  std::vector<std::uint8_t> out;
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  for (char c : header) out.push_back(static_cast<std::uint8_t>(c));
  for (const auto& e : entries) out.insert(out.end(), e.data.begin(), e.data.end());
  return out;
}
template <class T>
std::vector<std::uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<std::uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// --- a minimal pickle writer (protocol 2), enough for torch's legacy format ---------------------------------------
struct PickleWriter {
  std::vector<std::uint8_t> b;
  void op(std::uint8_t c) { b.push_back(c); }
  void proto() {
    op(0x80);
    op(2);
  }
  void str(const std::string& s) {
    op('X');
    const auto n = static_cast<std::uint32_t>(s.size());
    b.insert(b.end(), reinterpret_cast<const std::uint8_t*>(&n), reinterpret_cast<const std::uint8_t*>(&n) + 4);
    b.insert(b.end(), s.begin(), s.end());
  }
  void integer(std::int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      op(static_cast<std::uint8_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      const auto x = static_cast<std::int32_t>(v);
      b.insert(b.end(), reinterpret_cast<const std::uint8_t*>(&x), reinterpret_cast<const std::uint8_t*>(&x) + 4);
    } else {
      op(0x8a);
      op(8);
      b.insert(b.end(), reinterpret_cast<const std::uint8_t*>(&v), reinterpret_cast<const std::uint8_t*>(&v) + 8);
    }
  }
  void global(const std::string& module, const std::string& name) {
    op('c');
    b.insert(b.end(), module.begin(), module.end());
    op('\n');
    b.insert(b.end(), name.begin(), name.end());
    op('\n');
  }
  void int_tuple(const std::vector<std::int64_t>& v) {
    op('(');
    for (auto x : v) integer(x);
    op('t');
  }
};

const char* storage_class(DType d) {
  switch (d) {
    case DType::Float32: return "FloatStorage";
    case DType::Float64: return "DoubleStorage";
    case DType::Float16: return "HalfStorage";
    case DType::BFloat16: return "BFloat16Storage";
    case DType::Int64: return "LongStorage";
    case DType::Int32: return "IntStorage";
    case DType::Int16: return "ShortStorage";
    case DType::Int8: return "CharStorage";
    case DType::UInt8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
  }
  return "?";
}

struct LegacyTensor {
  std::string name;
  std::string storage_key;
  std::int64_t offset;
  Shape size, stride;
};
struct LegacyStorage {
  DType dtype;
  std::vector<std::uint8_t> data;
};

// Writes torch's legacy (pre-1.6, _use_new_zipfile_serialization=False) layout.
std::vector<std::uint8_t> make_legacy(const std::vector<LegacyTensor>& tensors,
                                      const std::map<std::string, LegacyStorage>& storages) {
  PickleWriter w;
  // magic number 0x1950a86a20f9469cfc6c as LONG1
  w.proto();
  const std::uint8_t magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  w.b.insert(w.b.end(), std::begin(magic), std::end(magic));
  // protocol version 1001
  w.proto();
  w.op('M');
  w.op(0xe9);
  w.op(0x03);
  w.op('.');
  // sys_info
  w.proto();
  w.op('}');
  w.op('(');
  w.str("protocol_version");
  w.integer(1001);
  w.str("little_endian");
  w.op(0x88);
  w.str("type_sizes");
  w.op('}');
  w.op('(');
  w.str("short");
  w.integer(2);
  w.str("int");
  w.integer(4);
  w.str("long");
  w.integer(4);
  w.op('u');
  w.op('u');
  w.op('.');
  // the state dict: OrderedDict() then SETITEMS of name -> _rebuild_tensor_v2(...)
  w.proto();
  w.global("collections", "OrderedDict");
  w.op(')');
  w.op('R');
  w.op('q');
  w.op(0);
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.op('q');
  w.op(1);
  w.op(0x30);  // POP: keep it in the memo only
  w.op('(');
  for (const auto& t : tensors) {
    const auto& st = storages.at(t.storage_key);
    w.str(t.name);
    w.op('h');
    w.op(1);  // BINGET the rebuild function
    w.op('(');
    w.op('(');
    w.str("storage");
    w.global("torch", storage_class(st.dtype));
    w.str(t.storage_key);
    w.str("cpu");
    w.integer(static_cast<std::int64_t>(st.data.size() / dtype_size(st.dtype)));
    w.op('N');  // view_metadata
    w.op('t');
    w.op('Q');  // BINPERSID
    w.integer(t.offset);
    w.int_tuple(t.size);
    w.int_tuple(t.stride);
    w.op(0x89);  // requires_grad False
    w.global("collections", "OrderedDict");
    w.op(')');
    w.op('R');
    w.op('t');
    w.op('R');
  }
  w.op('u');
  w.op('.');
  // storage keys (sorted, as torch writes them), then each storage: int64 count + raw bytes
  w.proto();
  w.op(']');
  w.op('(');
  for (const auto& [k, s] : storages) w.str(k);
  w.op('e');
  w.op('.');
  for (const auto& [k, s] : storages) {
    const std::int64_t count = static_cast<std::int64_t>(s.data.size() / dtype_size(s.dtype));
    w.b.insert(w.b.end(), reinterpret_cast<const std::uint8_t*>(&count),
               reinterpret_cast<const std::uint8_t*>(&count) + 8);
    w.b.insert(w.b.end(), s.data.begin(), s.data.end());
  }
  return w.b;
}

std::vector<std::uint8_t> make_zip(const std::map<std::string, std::vector<std::uint8_t>>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(src);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    const auto idx = zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  const auto size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size));
  zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(src);
  zip_source_free(src);
  zip_error_fini(&err);
  return out;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

TEST(CheckpointReaders, EveryFixtureModelGivesIdenticalTensorsFromBothFiles) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dirs = model_dirs_with_bin(fixtures);
  ASSERT_GE(dirs.size(), 9u);
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.string());
    // What the export sees: each file with the tied names of config.json restored (save_pretrained's safetensors
    // keeps one name per tied group, torch.save's .bin every name).
    const Json config = ortformers::read_json_file(dir / "config.json");
    StateDict st = load_safetensors(dir / "model.safetensors");
    StateDict bin = load_pytorch_bin(dir / "pytorch_model.bin");
    tie_weights(st, config);
    tie_weights(bin, config);
    ASSERT_GT(st.size(), 0u);
    for (const auto& [name, t] : st) {
      ASSERT_TRUE(bin.contains(name)) << name;
      EXPECT_TRUE(same_bytes(t, bin.at(name))) << name;
    }
    for (const auto& name : bin.names()) {
      if (!st.contains(name)) ADD_FAILURE() << "only in pytorch_model.bin: " << name;
    }
    EXPECT_EQ(st.size(), bin.size());
  }
}

TEST(CheckpointReaders, TiedWeightsOfT5AreRestoredFromTheConfig) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = fixtures / "models" / "t5-tiny";
  const StateDict raw = load_safetensors(dir / "model.safetensors");
  ASSERT_FALSE(raw.contains("lm_head.weight"));  // save_pretrained dropped the tied aliases
  const StateDict sd = load_checkpoint(dir);     // what the exporter reads
  for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}) {
    ASSERT_TRUE(sd.contains(alias)) << alias;
    EXPECT_EQ(sd.at(alias).raw_data(), sd.at("shared.weight").raw_data()) << alias << " shares shared.weight";
  }
  EXPECT_EQ(sd.size(), load_pytorch_bin(dir / "pytorch_model.bin").size());
  // tie_word_embeddings false unties the head but keeps the shared encoder/decoder embeddings.
  StateDict untied = load_safetensors(dir / "model.safetensors");
  Json cfg = ortformers::read_json_file(dir / "config.json");
  cfg["tie_word_embeddings"] = false;
  EXPECT_EQ(tie_weights(untied, cfg), 2u);
  EXPECT_FALSE(untied.contains("lm_head.weight"));
  cfg["tie_word_embeddings"] = "yes";
  const std::string err = error_of([&] { tie_weights(untied, cfg); });
  EXPECT_NE(err.find("tie_word_embeddings"), std::string::npos) << err;
  // Llama's class default is untied; GPT-2's is tied.
  EXPECT_TRUE(tied_weights(Json{{"model_type", "llama"}}).empty());
  ASSERT_EQ(tied_weights(Json{{"model_type", "gpt2"}}).size(), 1u);
  EXPECT_EQ(tied_weights(Json{{"model_type", "gpt2"}})[0].alias, "lm_head.weight");
}

TEST(CheckpointReaders, LoadCheckpointPrefersSafetensors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = fixtures / "models" / "bert-tiny";
  EXPECT_EQ(find_checkpoint_file(dir).filename(), "model.safetensors");
  const StateDict sd = load_checkpoint(dir);
  EXPECT_TRUE(sd.contains("embeddings.word_embeddings.weight"));
  const Tensor& w = sd.at("embeddings.word_embeddings.weight");
  EXPECT_EQ(w.dtype(), DType::Float32);
  EXPECT_EQ(w.shape(), (Shape{30522, 32}));
  const std::string err = error_of([&] { (void)sd.at("bert.pooler.missing"); });
  EXPECT_NE(err.find("bert.pooler.missing"), std::string::npos) << err;
  EXPECT_THROW((void)sd.at("nope"), NotFoundError);
  const auto empty = ortformers::testing::make_temp_dir("ckpt-empty");
  const std::string nf = error_of([&] { (void)load_checkpoint(empty); });
  EXPECT_NE(nf.find("model.safetensors"), std::string::npos) << nf;
  EXPECT_NE(nf.find("pytorch_model.bin"), std::string::npos) << nf;
}

TEST(CheckpointReaders, SafetensorsTensorsOutliveTheStateDict) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Tensor kept;
  std::vector<std::uint8_t> copy;
  {
    const StateDict sd = load_safetensors(fixtures / "models" / "bert-tiny" / "model.safetensors");
    kept = sd.at("embeddings.LayerNorm.weight");
    copy.assign(static_cast<const std::uint8_t*>(kept.raw_data()),
                static_cast<const std::uint8_t*>(kept.raw_data()) + kept.nbytes());
  }
  ASSERT_EQ(kept.nbytes(), copy.size());
  EXPECT_EQ(std::memcmp(kept.raw_data(), copy.data(), copy.size()), 0);
}

TEST(CheckpointReaders, LegacyFormatWithTiedStridedAndOffsetTensors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const StateDict ref = load_pytorch_bin(fixtures / "models" / "bert-tiny" / "pytorch_model.bin");
  std::vector<LegacyTensor> tensors;
  std::map<std::string, LegacyStorage> storages;
  int k = 0;
  for (const auto& [name, t] : ref) {
    const std::string key = std::to_string(k++);
    const auto* p = static_cast<const std::uint8_t*>(t.raw_data());
    storages[key] = {t.dtype(), std::vector<std::uint8_t>(p, p + t.nbytes())};
    Shape stride(t.rank(), 1);
    for (std::size_t d = t.rank(); d-- > 1;) stride[d - 1] = stride[d] * t.shape()[d];
    tensors.push_back({name, key, 0, t.shape(), stride});
  }
  // A tied weight: a second name over the word-embedding storage.
  const std::string emb_key = tensors.front().storage_key;
  tensors.push_back({"tied.decoder.weight", emb_key, 0, tensors.front().size, tensors.front().stride});
  // A transposed (non-contiguous) view at a storage offset: storage holds 2 + 3x4 floats.
  std::vector<float> raw(14);
  std::iota(raw.begin(), raw.end(), 0.0f);
  storages["zz"] = {DType::Float32, as_bytes(raw)};
  tensors.push_back({"view.transposed", "zz", 2, {4, 3}, {1, 4}});
  tensors.push_back({"view.row", "zz", 6, {4}, {1}});

  const auto dir = ortformers::testing::make_temp_dir("ckpt-legacy");
  write_bytes(dir / "pytorch_model.bin", make_legacy(tensors, storages));
  const StateDict legacy = load_checkpoint(dir);
  for (const auto& [name, t] : ref) {
    ASSERT_TRUE(legacy.contains(name)) << name;
    EXPECT_TRUE(same_bytes(t, legacy.at(name))) << name;
  }
  const Tensor& tied = legacy.at("tied.decoder.weight");
  EXPECT_TRUE(same_bytes(tied, ref.at(tensors.front().name)));
  EXPECT_EQ(tied.raw_data(), legacy.at(tensors.front().name).raw_data()) << "tied weights share one buffer";
  const Tensor& tr = legacy.at("view.transposed");
  ASSERT_EQ(tr.shape(), (Shape{4, 3}));
  // element [i][j] = storage[2 + i + 4j]
  const auto v = tr.to_vector<float>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(v[static_cast<std::size_t>(i * 3 + j)], 2.0f + i + 4 * j);
  EXPECT_EQ(legacy.at("view.row").to_vector<float>(), (std::vector<float>{6, 7, 8, 9}));

  // The same bytes from memory (the fuzzer's entry point) give the same tensors.
  const auto bytes = read_bytes(dir / "pytorch_model.bin");
  const StateDict mem = load_pytorch_bin_from_memory(bytes, "legacy.bin");
  EXPECT_EQ(mem.names(), legacy.names());
  EXPECT_TRUE(same_bytes(mem.at("view.transposed"), tr));

  // Truncations anywhere give a FileFormatError, never a crash.
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{20}, std::size_t{60}, bytes.size() / 3,
                          bytes.size() - 9, bytes.size() - 1}) {
    std::vector<std::uint8_t> t(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW((void)load_pytorch_bin_from_memory(t, "cut.bin"), FileFormatError) << cut;
  }
}

TEST(CheckpointReaders, ForeignGlobalsAndOpcodesAreRefused) {
  StorageResolver none = [](const std::string&, DType, std::int64_t) -> PickleStorage { return {}; };
  // What pickle.dumps writes for an object whose __reduce__ returns (os.system, ("echo pwned",)).
  PickleWriter w;
  w.proto();
  w.global("os", "system");
  w.op('q');
  w.op(0);
  w.str("echo pwned");
  w.op(0x85);  // TUPLE1
  w.op('R');
  w.op('.');
  const std::vector<std::uint8_t> evil = w.b;
  std::string err = error_of([&] { (void)load_state_dict_pickle(evil, none, "evil.pkl"); });
  EXPECT_NE(err.find("os.system"), std::string::npos) << err;
  EXPECT_THROW((void)load_state_dict_pickle(evil, none, "evil.pkl"), FileFormatError);

  // Protocol 4: FRAME, SHORT_BINUNICODE 'builtins', 'eval', STACK_GLOBAL.
  std::vector<std::uint8_t> evil4 = {0x80, 4, 0x95, 24, 0, 0, 0, 0, 0, 0, 0, 0x8c, 8};
  for (char c : std::string("builtins")) evil4.push_back(static_cast<std::uint8_t>(c));
  evil4.insert(evil4.end(), {0x94, 0x8c, 4});
  for (char c : std::string("eval")) evil4.push_back(static_cast<std::uint8_t>(c));
  evil4.insert(evil4.end(), {0x94, 0x93, 0x94, 0x8c, 1, '1', 0x85, 'R', '.'});
  err = error_of([&] { (void)load_state_dict_pickle(evil4, none, "evil4.pkl"); });
  EXPECT_NE(err.find("builtins.eval"), std::string::npos) << err;

  // The same inside a zip pytorch_model.bin.
  const auto zip = make_zip({{"archive/data.pkl", evil}, {"archive/byteorder", {'l', 'i', 't', 't', 'l', 'e'}}});
  const auto dir = ortformers::testing::make_temp_dir("ckpt-evil");
  write_bytes(dir / "pytorch_model.bin", zip);
  err = error_of([&] { (void)load_checkpoint(dir); });
  EXPECT_NE(err.find("os.system"), std::string::npos) << err;
  EXPECT_NE(err.find("pytorch_model.bin"), std::string::npos) << err;

  // Opcodes outside the allowed set: INST ('i'), NEWOBJ (0x81), EXT1 (0x82).
  const std::vector<std::vector<std::uint8_t>> bad_ops = {
      {0x80, 2, 'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'},
      {0x80, 2, ')', 0x81, '.'},
      {0x80, 2, 0x82, 1, '.'}};
  for (const auto& b : bad_ops) {
    err = error_of([&] { (void)load_state_dict_pickle(b, none, "op.pkl"); });
    EXPECT_NE(err.find("opcode"), std::string::npos) << err;
  }
  // A torch-allowed global used as a callable it is not.
  PickleWriter sw;
  sw.proto();
  sw.global("torch", "FloatStorage");
  sw.op(')');
  sw.op('R');
  sw.op('.');
  const std::vector<std::uint8_t> sb = sw.b;
  EXPECT_THROW((void)load_state_dict_pickle(sb, none, "st.pkl"), FileFormatError);
}

TEST(CheckpointReaders, CorruptZipCheckpointsGiveClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto bytes = read_bytes(fixtures / "models" / "bert-tiny" / "pytorch_model.bin");
  for (std::size_t cut : {std::size_t{3}, std::size_t{100}, bytes.size() / 2, bytes.size() - 30}) {
    std::vector<std::uint8_t> t(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW((void)load_pytorch_bin_from_memory(t, "cut.bin"), FileFormatError) << cut;
  }
  // A zip whose data.pkl references a storage entry that is missing, and one whose entry is too short.
  const auto dir = ortformers::testing::make_temp_dir("ckpt-zip");
  std::vector<std::uint8_t> pkl;
  {
    PickleWriter w;
    w.proto();
    w.op('}');
    w.str("w");
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.op('(');
    w.op('(');
    w.str("storage");
    w.global("torch", "FloatStorage");
    w.str("0");
    w.str("cpu");
    w.integer(6);
    w.op('t');
    w.op('Q');
    w.integer(0);
    w.int_tuple({2, 3});
    w.int_tuple({3, 1});
    w.op(0x89);
    w.global("collections", "OrderedDict");
    w.op(')');
    w.op('R');
    w.op('t');
    w.op('R');
    w.op('s');
    w.op('.');
    pkl = w.b;
  }
  std::string err = error_of([&] { (void)load_pytorch_bin_from_memory(make_zip({{"m/data.pkl", pkl}}), "a.bin"); });
  EXPECT_NE(err.find("m/data/0"), std::string::npos) << err;
  std::vector<float> six = {1, 2, 3, 4, 5, 6};
  err = error_of([&] {
    (void)load_pytorch_bin_from_memory(make_zip({{"m/data.pkl", pkl}, {"m/data/0", as_bytes(std::vector<float>(5))}}),
                                       "b.bin");
  });
  EXPECT_NE(err.find("m/data/0"), std::string::npos) << err;
  const StateDict ok =
      load_pytorch_bin_from_memory(make_zip({{"m/data.pkl", pkl}, {"m/data/0", as_bytes(six)}}), "c.bin");
  EXPECT_EQ(ok.at("w").to_vector<float>(), six);
  EXPECT_EQ(ok.at("w").shape(), (Shape{2, 3}));
  // Truncated data.pkl inside a valid zip.
  std::vector<std::uint8_t> half(pkl.begin(), pkl.begin() + static_cast<std::ptrdiff_t>(pkl.size() / 2));
  err = error_of([&] { (void)load_pytorch_bin_from_memory(make_zip({{"m/data.pkl", half}}), "d.bin"); });
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  // A view reaching past its storage.
  std::vector<std::uint8_t> big = pkl;
  // shape (2,3) -> (3,3): change the first size integer (K 2) to K 3
  for (std::size_t i = 0; i + 3 < big.size(); ++i) {
    if (big[i] == '(' && big[i + 1] == 'K' && big[i + 2] == 2 && big[i + 3] == 'K') {
      big[i + 2] = 3;
      break;
    }
  }
  err = error_of([&] {
    (void)load_pytorch_bin_from_memory(make_zip({{"m/data.pkl", big}, {"m/data/0", as_bytes(six)}}), "e.bin");
  });
  EXPECT_NE(err.find("past storage"), std::string::npos) << err;
}

TEST(CheckpointReaders, CorruptSafetensorsGiveClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path file = fixtures / "models" / "bert-tiny" / "model.safetensors";
  const auto bytes = read_bytes(file);
  const auto dir = ortformers::testing::make_temp_dir("ckpt-st");
  // Truncated: at several points, through the file API (the message names the file).
  for (std::size_t cut : {std::size_t{0}, std::size_t{4}, std::size_t{8}, std::size_t{200}, bytes.size() - 1}) {
    std::vector<std::uint8_t> t(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    write_bytes(dir / "model.safetensors", t);
    const std::string err = error_of([&] { (void)load_safetensors(dir / "model.safetensors"); });
    EXPECT_NE(err.find("model.safetensors"), std::string::npos) << cut << ": " << err;
    EXPECT_THROW((void)load_safetensors(dir / "model.safetensors"), FileFormatError) << cut;
  }
  const std::vector<float> four = {1, 2, 3, 4};
  // Header length beyond the file / absurd.
  auto huge = make_safetensors({{"a", "F32", {4}, as_bytes(four)}});
  const std::uint64_t big = 1ull << 40;
  std::memcpy(huge.data(), &big, 8);
  EXPECT_THROW((void)load_safetensors_from_memory(huge), FileFormatError);
  // Size mismatch names the tensor.
  auto bad = make_safetensors({{"a", "F32", {5}, as_bytes(four)}});
  std::string err = error_of([&] { (void)load_safetensors_from_memory(bad, "x.safetensors"); });
  EXPECT_NE(err.find("'a'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.safetensors"), std::string::npos) << err;
  // Overlap, offsets past the end, begin > end, bad JSON, bad dtype, negative shape, metadata not strings.
  const std::string d16(16, '\0');
  auto raw = [&](const std::string& header) {
    std::string h = header;
    std::vector<std::uint8_t> out;
    const std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    for (char c : h + d16) out.push_back(static_cast<std::uint8_t>(c));
    return out;
  };
  for (
      const std::string h : {
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
          R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})",
          R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})",
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})",
          R"({"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}})",
          R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})",
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"__metadata__":{"k":1}})",
          R"({"a":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,16]}})",
          R"({"a":{"dtype":"F32","shape":[4]}})",
          R"([1,2])",
      }) {
    err = error_of([&] { (void)load_safetensors_from_memory(raw(h), "y.safetensors"); });
    EXPECT_NE(err.find("y.safetensors"), std::string::npos) << h << " -> " << err;
    EXPECT_THROW((void)load_safetensors_from_memory(raw(h), "y.safetensors"), FileFormatError) << h;
  }
  // C64 is valid safetensors but unsupported here.
  EXPECT_THROW((void)load_safetensors_from_memory(raw(R"({"a":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})")),
               UnsupportedError);
}

TEST(CheckpointReaders, SafetensorsDtypesAndMetadata) {
  std::vector<StEntry> entries;
  entries.push_back({"f64", "F64", {2}, as_bytes(std::vector<double>{1.5, -2.25})});
  entries.push_back({"f16", "F16", {2}, as_bytes(std::vector<std::uint16_t>{0x3c00, 0xc000})});
  entries.push_back({"bf16", "BF16", {1}, as_bytes(std::vector<std::uint16_t>{0x3f80})});
  entries.push_back({"i64", "I64", {2}, as_bytes(std::vector<std::int64_t>{-5, 1ll << 40})});
  entries.push_back({"i32", "I32", {1}, as_bytes(std::vector<std::int32_t>{-7})});
  entries.push_back({"i16", "I16", {1}, as_bytes(std::vector<std::int16_t>{-3})});
  entries.push_back({"i8", "I8", {1}, as_bytes(std::vector<std::int8_t>{-2})});
  entries.push_back({"u8", "U8", {1}, as_bytes(std::vector<std::uint8_t>{200})});
  entries.push_back({"b", "BOOL", {2}, as_bytes(std::vector<std::uint8_t>{1, 0})});
  entries.push_back({"u16", "U16", {1}, as_bytes(std::vector<std::uint16_t>{65535})});
  entries.push_back({"u32", "U32", {1}, as_bytes(std::vector<std::uint32_t>{4000000000u})});
  entries.push_back({"u64", "U64", {1}, as_bytes(std::vector<std::uint64_t>{1ull << 62})});
  // e4m3fn: 0x38 = 1.0, 0xC4 = -3.0 (0x40 = 2, 0x44 = 3), 0x01 = 2^-9 ; e5m2: 0x3c = 1.0, 0x7c = inf
  entries.push_back({"e4m3", "F8_E4M3", {3}, {0x38, 0xc4, 0x01}});
  entries.push_back({"e5m2", "F8_E5M2", {2}, {0x3c, 0xc2}});
  entries.push_back({"e8m0", "F8_E8M0", {2}, {127, 130}});
  entries.push_back({"empty", "F32", {0, 3}, {}});
  entries.push_back({"scalar", "F32", {}, as_bytes(std::vector<float>{42})});
  Json h = Json::object();
  std::size_t off = 0;
  for (const auto& e : entries) {
    h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.data.size()}}};
    off += e.data.size();
  }
  h["__metadata__"] = {{"format", "pt"}};
  const auto bytes = make_safetensors(entries, h.dump());
  const StateDict sd = load_safetensors_from_memory(bytes, "dtypes.safetensors");
  EXPECT_EQ(sd.metadata.at("format"), "pt");
  EXPECT_EQ(sd.size(), entries.size());
  EXPECT_EQ(sd.at("f64").to_vector<double>(), (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(sd.at("f16").to_float_vector(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(sd.at("bf16").to_float_vector(), (std::vector<float>{1.0f}));
  EXPECT_EQ(sd.at("i64").to_vector<std::int64_t>(), (std::vector<std::int64_t>{-5, 1ll << 40}));
  EXPECT_EQ(sd.at("i32").to_vector<std::int32_t>(), (std::vector<std::int32_t>{-7}));
  EXPECT_EQ(sd.at("i16").to_vector<std::int16_t>(), (std::vector<std::int16_t>{-3}));
  EXPECT_EQ(sd.at("i8").to_vector<std::int8_t>(), (std::vector<std::int8_t>{-2}));
  EXPECT_EQ(sd.at("u8").to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{200}));
  EXPECT_EQ(sd.at("b").dtype(), DType::Bool);
  EXPECT_EQ(sd.at("u16").to_vector<std::int32_t>(), (std::vector<std::int32_t>{65535}));
  EXPECT_EQ(sd.at("u32").to_vector<std::int64_t>(), (std::vector<std::int64_t>{4000000000ll}));
  EXPECT_EQ(sd.at("u64").to_vector<std::int64_t>(), (std::vector<std::int64_t>{1ll << 62}));
  EXPECT_EQ(sd.at("e4m3").to_vector<float>(), (std::vector<float>{1.0f, -3.0f, 1.0f / 512}));
  EXPECT_EQ(sd.at("e5m2").to_vector<float>(), (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(sd.at("e8m0").to_vector<float>(), (std::vector<float>{1.0f, 8.0f}));
  EXPECT_EQ(sd.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(sd.at("scalar").to_vector<float>(), (std::vector<float>{42}));
  // U64 beyond int64 is refused, naming the tensor.
  const auto over = make_safetensors({{"big", "U64", {1}, as_bytes(std::vector<std::uint64_t>{~0ull})}});
  const std::string err = error_of([&] { (void)load_safetensors_from_memory(over, "u.safetensors"); });
  EXPECT_NE(err.find("'big'"), std::string::npos) << err;
}

TEST(CheckpointReaders, ShardedCheckpoints) {
  const auto dir = ortformers::testing::make_temp_dir("ckpt-shards");
  const std::vector<float> a = {1, 2, 3}, b = {4, 5};
  write_bytes(dir / "model-00001-of-00002.safetensors", make_safetensors({{"enc.a", "F32", {3}, as_bytes(a)}}));
  write_bytes(dir / "model-00002-of-00002.safetensors", make_safetensors({{"enc.b", "F32", {2}, as_bytes(b)}}));
  Json index = {
      {"metadata", {{"total_size", 20}}},
      {"weight_map", {{"enc.a", "model-00001-of-00002.safetensors"}, {"enc.b", "model-00002-of-00002.safetensors"}}}};
  write_text_file(dir / "model.safetensors.index.json", index.dump());
  EXPECT_EQ(find_checkpoint_file(dir).filename(), "model.safetensors.index.json");
  const StateDict sd = load_checkpoint(dir);
  EXPECT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd.at("enc.a").to_vector<float>(), a);
  EXPECT_EQ(sd.at("enc.b").to_vector<float>(), b);
  // A shard missing a tensor the index maps to it.
  index["weight_map"]["enc.c"] = "model-00002-of-00002.safetensors";
  write_text_file(dir / "model.safetensors.index.json", index.dump());
  std::string err = error_of([&] { (void)load_checkpoint(dir); });
  EXPECT_NE(err.find("enc.c"), std::string::npos) << err;
  // A shard path escaping the folder is refused before anything is opened.
  index["weight_map"]["enc.c"] = "../../etc/passwd";
  write_text_file(dir / "model.safetensors.index.json", index.dump());
  err = error_of([&] { (void)load_checkpoint(dir); });
  EXPECT_NE(err.find("../../etc/passwd"), std::string::npos) << err;
}

TEST(CheckpointReaders, ShardedPytorchBin) {
  const auto dir = ortformers::testing::make_temp_dir("ckpt-bin-shards");
  const std::vector<float> a = {1, 2, 3, 4}, b = {5, 6};
  write_bytes(dir / "pytorch_model-00001-of-00002.bin",
              make_legacy({{"enc.a", "0", 0, {2, 2}, {2, 1}}}, {{"0", {DType::Float32, as_bytes(a)}}}));
  write_bytes(dir / "pytorch_model-00002-of-00002.bin",
              make_legacy({{"enc.b", "0", 0, {2}, {1}}}, {{"0", {DType::Float32, as_bytes(b)}}}));
  const Json index = {
      {"metadata", {{"total_size", 24}}},
      {"weight_map", {{"enc.a", "pytorch_model-00001-of-00002.bin"}, {"enc.b", "pytorch_model-00002-of-00002.bin"}}}};
  write_text_file(dir / "pytorch_model.bin.index.json", index.dump());
  EXPECT_EQ(find_checkpoint_file(dir).filename(), "pytorch_model.bin.index.json");
  const StateDict sd = load_checkpoint(dir);
  EXPECT_EQ(sd.at("enc.a").to_vector<float>(), a);
  EXPECT_EQ(sd.at("enc.a").shape(), (Shape{2, 2}));
  EXPECT_EQ(sd.at("enc.b").to_vector<float>(), b);
  // A missing shard file is a NotFoundError naming it.
  fs::remove(dir / "pytorch_model-00002-of-00002.bin");
  const std::string err = error_of([&] { (void)load_checkpoint(dir); });
  EXPECT_NE(err.find("pytorch_model-00002-of-00002.bin"), std::string::npos) << err;
}

TEST(CheckpointReaders, StateDictEditing) {
  StateDict sd;
  sd.insert("a", Tensor::from_values<float>({1}, {1}));
  sd.insert("b", Tensor::from_values<float>({2}, {1}));
  sd.insert("c", Tensor::from_values<float>({3}, {1}));
  sd.insert("a", Tensor::from_values<float>({9}, {1}));
  EXPECT_EQ(sd.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(sd.at("a").to_vector<float>(), std::vector<float>{9});
  EXPECT_TRUE(sd.erase("b"));
  EXPECT_FALSE(sd.erase("b"));
  EXPECT_EQ(sd.names(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(sd.at("c").to_vector<float>(), std::vector<float>{3});
  EXPECT_EQ(sd.find("b"), nullptr);
  EXPECT_EQ(sd.nbytes(), 8u);
}
