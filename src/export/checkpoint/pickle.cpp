// Restricted unpickler for torch state dicts. It interprets the opcodes torch.save emits (protocols 2-5) and knows
// a closed list of globals; it never imports or calls anything. Tensors are built from (storage, offset, size,
// stride), with storages fetched through a resolver (zip entry, legacy in-file storage, fuzzer).
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <variant>

#include "export/checkpoint/detail.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters {

namespace {

constexpr std::size_t kMaxDepth = 256;  // nesting of containers when walking the result
constexpr std::size_t kMaxRank = 64;
constexpr std::size_t kMaxItems = 1u << 26;  // elements in one container (guards against blowing memory)

struct Object;
using Ref = std::shared_ptr<Object>;

enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

// The globals torch writes into a state dict pickle.
enum class GlobalId {
  OrderedDict,
  RebuildTensorV2,
  RebuildTensor,
  RebuildParameter,
  RebuildParameterWithState,
  StorageType,
  DType
};

struct StorageObj {
  std::string key;
  DType dtype = DType::Float32;
  std::int64_t numel = 0;
  PickleStorage bytes;               // filled when the storages are resolved, after unpickling
  std::shared_ptr<StorageObj> base;  // legacy storage views: the viewed storage and the offset into it
  std::int64_t view_offset = 0;

  const std::uint8_t* data() const {
    if (base) return base->bytes.data + static_cast<std::size_t>(view_offset) * dtype_size(dtype);
    return bytes.data;
  }
  const std::shared_ptr<void>& owner() const { return base ? base->bytes.owner : bytes.owner; }
};

// A tensor to build once its storage is resolved.
struct TensorSpec {
  std::shared_ptr<StorageObj> storage;
  std::int64_t offset = 0;
  Shape size, stride;
};

struct Object {
  Kind kind = Kind::None;
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  std::string s;                            // String, Bytes, Global's qualified name
  std::vector<Ref> items;                   // Tuple, List
  std::vector<std::pair<Ref, Ref>> dict;    // Dict (insertion order)
  GlobalId global = GlobalId::OrderedDict;  // Global
  DType dtype = DType::Float32;             // Global StorageType / DType
  std::shared_ptr<StorageObj> storage;      // Storage
  TensorSpec tensor;                        // Tensor
};

Ref make(Kind k) {
  auto r = std::make_shared<Object>();
  r->kind = k;
  return r;
}

struct KnownGlobal {
  const char* module;
  const char* name;
  GlobalId id;
  DType dtype;
};

// Storage classes (torch.FloatStorage ...) and dtypes (torch.float32 ...). UntypedStorage holds bytes.
const KnownGlobal kGlobals[] = {
    {"collections", "OrderedDict", GlobalId::OrderedDict, DType::Float32},
    {"torch._utils", "_rebuild_tensor_v2", GlobalId::RebuildTensorV2, DType::Float32},
    {"torch._utils", "_rebuild_tensor", GlobalId::RebuildTensor, DType::Float32},
    {"torch._utils", "_rebuild_parameter", GlobalId::RebuildParameter, DType::Float32},
    {"torch._utils", "_rebuild_parameter_with_state", GlobalId::RebuildParameterWithState, DType::Float32},
    {"torch", "DoubleStorage", GlobalId::StorageType, DType::Float64},
    {"torch", "FloatStorage", GlobalId::StorageType, DType::Float32},
    {"torch", "HalfStorage", GlobalId::StorageType, DType::Float16},
    {"torch", "BFloat16Storage", GlobalId::StorageType, DType::BFloat16},
    {"torch", "LongStorage", GlobalId::StorageType, DType::Int64},
    {"torch", "IntStorage", GlobalId::StorageType, DType::Int32},
    {"torch", "ShortStorage", GlobalId::StorageType, DType::Int16},
    {"torch", "CharStorage", GlobalId::StorageType, DType::Int8},
    {"torch", "ByteStorage", GlobalId::StorageType, DType::UInt8},
    {"torch", "BoolStorage", GlobalId::StorageType, DType::Bool},
    {"torch", "UntypedStorage", GlobalId::StorageType, DType::UInt8},
    {"torch", "float64", GlobalId::DType, DType::Float64},
    {"torch", "float32", GlobalId::DType, DType::Float32},
    {"torch", "float16", GlobalId::DType, DType::Float16},
    {"torch", "bfloat16", GlobalId::DType, DType::BFloat16},
    {"torch", "int64", GlobalId::DType, DType::Int64},
    {"torch", "int32", GlobalId::DType, DType::Int32},
    {"torch", "int16", GlobalId::DType, DType::Int16},
    {"torch", "int8", GlobalId::DType, DType::Int8},
    {"torch", "uint8", GlobalId::DType, DType::UInt8},
    {"torch", "bool", GlobalId::DType, DType::Bool},
};

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += '?';
  }
  return out;
}

class Unpickler {
 public:
  Unpickler(std::span<const std::uint8_t> data, const StorageResolver& resolve, std::string source)
      : data_(data), resolve_(resolve), source_(std::move(source)) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;
  // Objects may nest deeply or form cycles (a hostile pickle can append a list to itself): tear them down
  // iteratively so that destruction neither recurses nor leaks.
  ~Unpickler() {
    std::vector<Ref> work(stack_.begin(), stack_.end());
    for (auto& [k, v] : memo_) work.push_back(v);
    if (result_) work.push_back(result_);
    // Objects no longer on the stack or in the memo but still alive sit in a cycle (popped after being appended to
    // themselves): every object made is tracked, so those are broken up too.
    for (auto& w : created_)
      if (Ref r = w.lock()) work.push_back(std::move(r));
    created_.clear();
    stack_.clear();
    memo_.clear();
    result_.reset();
    while (!work.empty()) {
      Ref r = std::move(work.back());
      work.pop_back();
      for (auto& x : r->items) work.push_back(std::move(x));
      for (auto& [k, v] : r->dict) {
        work.push_back(std::move(k));
        work.push_back(std::move(v));
      }
      r->items.clear();
      r->dict.clear();
    }
  }

  // Every object is made here so that the destructor can break cycles among them.
  Ref make(Kind k) {
    Ref r = ::ortformers::exporters::make(k);
    created_.push_back(r);
    return r;
  }

  Ref run() {
    while (true) {
      if (pos_ >= data_.size()) fail("truncated pickle: no STOP opcode before the end of the data");
      const std::size_t op_pos = pos_;
      const std::uint8_t op = data_[pos_++];
      switch (op) {
        case 0x80: {  // PROTO
          const std::uint8_t proto = u8();
          if (proto < 2 || proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
          break;
        }
        case 0x95: (void)u64(); break;  // FRAME: frame length, framing needs no special handling
        case '.': {                     // STOP
          if (stack_.size() != 1 || !marks_.empty()) fail("STOP with a stack of " + std::to_string(stack_.size()));
          result_ = stack_.back();
          return result_;
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(); break;                            // POP
        case '1': pop_mark(); break;                       // POP_MARK
        case '2': push(top()); break;                      // DUP
        case 'N': push(make(Kind::None)); break;
        case 0x88: push(make_bool(true)); break;                            // NEWTRUE
        case 0x89: push(make_bool(false)); break;                           // NEWFALSE
        case 'J': push(make_int(static_cast<std::int32_t>(u32()))); break;  // BININT
        case 'K': push(make_int(u8())); break;                              // BININT1
        case 'M': push(make_int(u16())); break;                             // BININT2
        case 0x8a: push(make_int(long_n(u8()))); break;                     // LONG1
        case 0x8b: push(make_int(long_n(u32()))); break;                    // LONG4
        case 'G': {                                                         // BINFLOAT (big-endian)
          const std::uint64_t bits = read_be64();
          auto r = make(Kind::Float);
          r->f = std::bit_cast<double>(bits);
          push(r);
          break;
        }
        case 'X': push(make_string(Kind::String, u32())); break;   // BINUNICODE
        case 0x8c: push(make_string(Kind::String, u8())); break;   // SHORT_BINUNICODE
        case 0x8d: push(make_string(Kind::String, u64())); break;  // BINUNICODE8
        case 'T': push(make_string(Kind::String, u32())); break;   // BINSTRING (py2 str)
        case 'U': push(make_string(Kind::String, u8())); break;    // SHORT_BINSTRING
        case 'B': push(make_string(Kind::Bytes, u32())); break;    // BINBYTES
        case 'C': push(make_string(Kind::Bytes, u8())); break;     // SHORT_BINBYTES
        case 0x8e: push(make_string(Kind::Bytes, u64())); break;   // BINBYTES8
        case '}': push(make(Kind::Dict)); break;                   // EMPTY_DICT
        case ']': push(make(Kind::List)); break;                   // EMPTY_LIST
        case ')': push(make(Kind::Tuple)); break;                  // EMPTY_TUPLE
        case 'd': {                                                // DICT
          auto items = pop_mark();
          if (items.size() % 2) fail("DICT with an odd number of items");
          auto r = make(Kind::Dict);
          for (std::size_t k = 0; k < items.size(); k += 2) set_item(*r, items[k], items[k + 1]);
          push(r);
          break;
        }
        case 'l': {  // LIST
          auto r = make(Kind::List);
          r->items = pop_mark();
          push(r);
          break;
        }
        case 't': {  // TUPLE
          auto r = make(Kind::Tuple);
          r->items = pop_mark();
          push(r);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const std::size_t n = op - 0x84;
          if (stack_.size() < n + floor()) fail("TUPLE" + std::to_string(n) + " on a too short stack");
          auto r = make(Kind::Tuple);
          r->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(r);
          break;
        }
        case 'a': {  // APPEND
          Ref v = pop();
          Ref list = top();
          if (list->kind != Kind::List) fail(std::string("APPEND to a ") + kind_name(list->kind));
          list->items.push_back(v);
          check_items(list->items.size());
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_mark();
          Ref list = top();
          if (list->kind != Kind::List) fail(std::string("APPENDS to a ") + kind_name(list->kind));
          list->items.insert(list->items.end(), items.begin(), items.end());
          check_items(list->items.size());
          break;
        }
        case 's': {  // SETITEM
          Ref v = pop();
          Ref k = pop();
          Ref d = top();
          if (d->kind != Kind::Dict) fail(std::string("SETITEM on a ") + kind_name(d->kind));
          set_item(*d, k, v);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          Ref d = top();
          if (d->kind != Kind::Dict) fail(std::string("SETITEMS on a ") + kind_name(d->kind));
          for (std::size_t k = 0; k < items.size(); k += 2) set_item(*d, items[k], items[k + 1]);
          break;
        }
        case 'h': push(memo_get(u8())); break;   // BINGET
        case 'j': push(memo_get(u32())); break;  // LONG_BINGET
        case 'q': memo_put(u8()); break;         // BINPUT
        case 'r': memo_put(u32()); break;        // LONG_BINPUT
        case 0x94: memo_put(memo_next_); break;  // MEMOIZE
        case 'c': {                              // GLOBAL "module\nname\n"
          const std::string module = read_line();
          const std::string name = read_line();
          push(lookup_global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Ref name = pop();
          Ref module = pop();
          if (module->kind != Kind::String || name->kind != Kind::String) fail("STACK_GLOBAL needs two strings");
          push(lookup_global(module->s, name->s));
          break;
        }
        case 'R': {  // REDUCE
          Ref args = pop();
          Ref fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': {  // BUILD
          Ref state = pop();
          Ref obj = top();
          // OrderedDict state (its _metadata attribute) and tensor state carry nothing a state dict needs.
          if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor) {
            fail(std::string("BUILD on a ") + kind_name(obj->kind) + " is not allowed");
          }
          break;
        }
        case 'Q': {  // BINPERSID
          Ref pid = pop();
          push(persistent_load(pid));
          break;
        }
        default: {
          char buf[64];
          std::snprintf(buf, sizeof buf, "opcode 0x%02x ('%c') at byte %zu is not allowed", op,
                        (op >= 0x20 && op < 0x7f) ? op : '?', op_pos);
          fail(buf);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FileFormatError(source_ + ": pickle: " + what + " (restricted torch unpickler)");
  }

  void need(std::size_t n) const {
    if (n > data_.size() - pos_)
      fail("truncated pickle: need " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + " of " +
           std::to_string(data_.size()));
  }
  std::uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  std::uint16_t u16() {
    need(2);
    std::uint16_t v;
    std::memcpy(&v, data_.data() + pos_, 2);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    need(4);
    std::uint32_t v;
    std::memcpy(&v, data_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t v;
    std::memcpy(&v, data_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::uint64_t read_be64() {
    need(8);
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | data_[pos_ + static_cast<std::size_t>(k)];
    pos_ += 8;
    return v;
  }
  // Little-endian two's complement integer of n bytes (LONG1/LONG4); at most 8 bytes are accepted.
  std::int64_t long_n(std::uint64_t n) {
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit int64");
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(data_[pos_ + k]) << (8 * k);
    if (n > 0 && n < 8 && (data_[pos_ + n - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    pos_ += static_cast<std::size_t>(n);
    return static_cast<std::int64_t>(v);
  }
  std::string read_line() {
    std::string s;
    while (true) {
      need(1);
      const char c = static_cast<char>(data_[pos_++]);
      if (c == '\n') return s;
      s += c;
      if (s.size() > 256) fail("GLOBAL name longer than 256 bytes");
    }
  }

  Ref make_bool(bool v) {
    auto r = make(Kind::Bool);
    r->b = v;
    return r;
  }
  Ref make_int(std::int64_t v) {
    auto r = make(Kind::Int);
    r->i = v;
    return r;
  }
  Ref make_string(Kind k, std::uint64_t n) {
    if (n > data_.size() - pos_)
      fail("truncated pickle: string of " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + " of " +
           std::to_string(data_.size()));
    auto r = make(k);
    r->s.assign(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return r;
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Ref r) {
    if (stack_.size() >= kMaxItems) fail("stack too deep");
    stack_.push_back(std::move(r));
  }
  Ref pop() {
    if (stack_.size() <= floor()) fail("pop from an empty stack (or across a MARK)");
    Ref r = std::move(stack_.back());
    stack_.pop_back();
    return r;
  }
  Ref top() const {
    if (stack_.size() <= floor()) fail("empty stack (or a MARK on top)");
    return stack_.back();
  }
  std::vector<Ref> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void check_items(std::size_t n) const {
    if (n > kMaxItems) fail("container with more than " + std::to_string(kMaxItems) + " items");
  }
  void set_item(Object& d, const Ref& k, const Ref& v) {
    if (k->kind != Kind::String && k->kind != Kind::Int && k->kind != Kind::Tuple) {
      fail(std::string("dict key of type ") + kind_name(k->kind) + " is not allowed");
    }
    d.dict.emplace_back(k, v);
    check_items(d.dict.size());
  }
  Ref memo_get(std::uint32_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " is not defined");
    return it->second;
  }
  void memo_put(std::uint32_t idx) {
    if (memo_.size() >= kMaxItems) fail("memo too large");
    memo_[idx] = top();
    memo_next_ = std::max<std::uint32_t>(memo_next_, idx + 1);
  }

  Ref lookup_global(const std::string& module, const std::string& name) {
    for (const auto& g : kGlobals) {
      if (module == g.module && name == g.name) {
        auto r = make(Kind::Global);
        r->global = g.id;
        r->dtype = g.dtype;
        r->s = module + "." + name;
        return r;
      }
    }
    fail("global '" + printable(module) + "." + printable(name) +
         "' is not allowed: a checkpoint may only reference collections.OrderedDict, torch._utils rebuild "
         "functions, torch storage types and torch dtypes");
  }

  std::int64_t as_int(const Ref& r, const char* what) const {
    if (r->kind == Kind::Int) return r->i;
    if (r->kind == Kind::Bool) return r->b ? 1 : 0;
    fail(std::string(what) + " must be an int, got " + kind_name(r->kind));
  }
  std::vector<std::int64_t> as_int_tuple(const Ref& r, const char* what) const {
    if (r->kind != Kind::Tuple && r->kind != Kind::List) {
      fail(std::string(what) + " must be a tuple of ints, got " + kind_name(r->kind));
    }
    if (r->items.size() > kMaxRank) fail(std::string(what) + " has more than 64 dimensions");
    std::vector<std::int64_t> v;
    for (const auto& x : r->items) v.push_back(as_int(x, what));
    return v;
  }

  Ref reduce(const Ref& fn, const Ref& args) {
    if (fn->kind != Kind::Global) fail(std::string("REDUCE on a ") + kind_name(fn->kind) + ", not a known callable");
    if (args->kind != Kind::Tuple) fail("REDUCE arguments must be a tuple");
    const auto& a = args->items;
    switch (fn->global) {
      case GlobalId::OrderedDict:
        if (!a.empty()) fail("collections.OrderedDict called with arguments");
        return make(Kind::Dict);
      case GlobalId::RebuildTensorV2:
      case GlobalId::RebuildTensor: {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        if (a.size() < 4) fail(fn->s + " needs at least 4 arguments, got " + std::to_string(a.size()));
        return rebuild_tensor(a[0], as_int(a[1], "storage_offset"), as_int_tuple(a[2], "size"),
                              as_int_tuple(a[3], "stride"));
      }
      case GlobalId::RebuildParameter:
      case GlobalId::RebuildParameterWithState: {
        // (data, requires_grad, backward_hooks[, state])
        if (a.empty() || a[0]->kind != Kind::Tensor) fail(fn->s + " needs a tensor as first argument");
        return a[0];
      }
      case GlobalId::StorageType:
      case GlobalId::DType: fail(fn->s + " cannot be called");
    }
    fail("unknown callable");
  }

  Ref persistent_load(const Ref& pid) {
    // zip format: ('storage', storage_type, key, location, numel)
    // legacy format: ('storage', storage_type, root_key, location, numel, view_metadata)
    if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items.size() > 6) {
      fail("persistent id must be ('storage', type, key, location, numel[, view])");
    }
    const auto& t = pid->items;
    if (t[0]->kind != Kind::String || t[0]->s != "storage") fail("persistent id of unknown kind");
    if (t[1]->kind != Kind::Global || t[1]->global != GlobalId::StorageType) {
      fail("persistent id storage type must be a torch storage class");
    }
    if (t[2]->kind != Kind::String) fail("persistent id storage key must be a string");
    const DType dtype = t[1]->dtype;
    const std::int64_t numel = as_int(t[4], "storage numel");
    if (numel < 0) fail("storage '" + printable(t[2]->s) + "' has negative size " + std::to_string(numel));
    std::shared_ptr<StorageObj> storage;
    auto it = storages_.find(t[2]->s);
    if (it != storages_.end()) {
      storage = it->second;
      if (storage->dtype != dtype || storage->numel != numel) {
        fail("storage '" + printable(t[2]->s) + "' referenced with two different types or sizes");
      }
    } else {
      storage = std::make_shared<StorageObj>();
      storage->key = t[2]->s;
      storage->dtype = dtype;
      storage->numel = numel;
      (void)detail::checked_mul(static_cast<std::size_t>(numel), dtype_size(dtype),
                                source_ + ": storage " + storage->key);
      storages_.emplace(storage->key, storage);
      storage_order_.push_back(storage);
    }
    if (t.size() == 6 && t[5]->kind != Kind::None) {
      // Legacy view of a storage: (view_key, offset, view_size), in elements.
      const Ref& view = t[5];
      if (view->kind != Kind::Tuple || view->items.size() != 3 || view->items[0]->kind != Kind::String) {
        fail("storage view metadata must be (key, offset, size)");
      }
      const std::int64_t off = as_int(view->items[1], "storage view offset");
      const std::int64_t size = as_int(view->items[2], "storage view size");
      if (off < 0 || size < 0 || off > storage->numel || size > storage->numel - off) {
        fail("storage view [" + std::to_string(off) + ", +" + std::to_string(size) + ") outside storage '" +
             printable(storage->key) + "' of " + std::to_string(storage->numel) + " elements");
      }
      auto v = std::make_shared<StorageObj>();
      v->key = view->items[0]->s;
      v->dtype = dtype;
      v->numel = size;
      v->base = storage;
      v->view_offset = off;
      storage = v;
    }
    auto r = make(Kind::Storage);
    r->storage = storage;
    return r;
  }

  Ref rebuild_tensor(const Ref& storage_ref, std::int64_t offset, const std::vector<std::int64_t>& size,
                     const std::vector<std::int64_t>& stride) {
    if (storage_ref->kind != Kind::Storage) fail("tensor rebuilt from a " + std::string(kind_name(storage_ref->kind)));
    const StorageObj& st = *storage_ref->storage;
    if (size.size() != stride.size()) {
      fail("tensor on storage '" + printable(st.key) + "' has size of rank " + std::to_string(size.size()) +
           " but stride of rank " + std::to_string(stride.size()));
    }
    if (offset < 0) fail("negative storage offset " + std::to_string(offset));
    // Highest element index touched, with overflow checks.
    std::int64_t numel = 1;
    __int128 last = offset;
    for (std::size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0) fail("negative dimension in tensor size");
      if (stride[d] < 0) fail("negative stride in tensor stride");
      if (__builtin_mul_overflow(numel, size[d], &numel)) fail("tensor size overflows");
    }
    if (numel > 0) {
      for (std::size_t d = 0; d < size.size(); ++d) last += static_cast<__int128>(size[d] - 1) * stride[d];
      if (last >= st.numel) {
        fail("tensor of size " + shape_to_string(size) + ", stride " + shape_to_string(stride) + " at offset " +
             std::to_string(offset) + " reaches past storage '" + printable(st.key) + "' of " +
             std::to_string(st.numel) + " elements");
      }
    }
    auto r = make(Kind::Tensor);
    r->tensor.storage = storage_ref->storage;
    r->tensor.offset = offset;
    r->tensor.size = size;
    r->tensor.stride = stride;
    return r;
  }

 public:
  // Asks the resolver for every storage, in order of first reference, and checks it holds enough bytes.
  void resolve_storages() {
    for (const auto& st : storage_order_) {
      st->bytes = resolve_(st->key, st->dtype, st->numel);
      const std::size_t need_bytes = static_cast<std::size_t>(st->numel) * dtype_size(st->dtype);
      if (st->bytes.nbytes < need_bytes || (need_bytes > 0 && !st->bytes.data)) {
        fail("storage '" + printable(st->key) + "' holds " + std::to_string(st->bytes.nbytes) +
             " bytes, fewer than its " + std::to_string(st->numel) + " elements need");
      }
    }
  }
  std::map<std::string, detail::StorageInfo> storage_infos() const {
    std::map<std::string, detail::StorageInfo> out;
    for (const auto& st : storage_order_) out[st->key] = {st->dtype, st->numel};
    return out;
  }
  std::size_t position() const noexcept { return pos_; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  const StorageResolver& resolve_;
  std::string source_;
  std::vector<Ref> stack_;
  std::vector<std::weak_ptr<Object>> created_;
  Ref result_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, Ref> memo_;
  std::uint32_t memo_next_ = 0;
  std::unordered_map<std::string, std::shared_ptr<StorageObj>> storages_;
  std::vector<std::shared_ptr<StorageObj>> storage_order_;
};

// Builds a tensor from its resolved storage: zero-copy when contiguous, gathered into a new buffer otherwise.
Tensor materialize(const TensorSpec& spec) {
  const StorageObj& st = *spec.storage;
  const auto& size = spec.size;
  const auto& stride = spec.stride;
  const std::int64_t numel = shape_numel(size);
  if (numel == 0) return Tensor::zeros(st.dtype, size);
  const std::size_t esize = dtype_size(st.dtype);
  bool contiguous = true;
  std::int64_t expect = 1;
  for (std::size_t d = size.size(); d-- > 0;) {
    if (size[d] != 1 && stride[d] != expect) contiguous = false;
    expect *= size[d];
  }
  const std::uint8_t* base = st.data() + static_cast<std::size_t>(spec.offset) * esize;
  if (contiguous) return detail::tensor_over(st.dtype, base, size, st.owner());
  auto buffer = detail::make_buffer(static_cast<std::size_t>(numel) * esize);
  std::uint8_t* out = buffer.get();
  std::vector<std::int64_t> idx(size.size(), 0);
  for (std::int64_t n = 0; n < numel; ++n) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < size.size(); ++d) src += idx[d] * stride[d];
    std::memcpy(out + static_cast<std::size_t>(n) * esize, base + static_cast<std::size_t>(src) * esize, esize);
    for (std::size_t d = size.size(); d-- > 0;) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return Tensor::from_external(st.dtype, out, size, std::move(buffer));
}

// Walks the unpickled result into a StateDict: a dict of name -> tensor. Nested dicts ({"model": {...}} or
// {"state_dict": {...}}) are looked into; non-tensor values (e.g. ints in "_metadata"-like entries) are skipped.
void collect(const Object& obj, const std::string& prefix, StateDict& out, const std::string& source,
             std::size_t depth) {
  if (depth > kMaxDepth) throw FileFormatError(source + ": pickle nesting deeper than 256 levels");
  for (const auto& [k, v] : obj.dict) {
    if (k->kind != Kind::String) continue;
    const std::string name = prefix.empty() ? k->s : prefix + "." + k->s;
    if (v->kind == Kind::Tensor)
      out.insert(name, materialize(v->tensor));
    else if (v->kind == Kind::Dict)
      collect(*v, name, out, source, depth + 1);
  }
}

}  // namespace

namespace detail {

StateDict unpickle_state_dict(std::span<const std::uint8_t> pickle, const StorageResolver& resolve,
                              const std::string& source, const StorageLayout& layout) {
  Unpickler u(pickle, resolve, source);
  Ref result = u.run();
  if (result->kind != Kind::Dict) {
    throw FileFormatError(source + ": pickle holds a " + std::string(kind_name(result->kind)) +
                          ", expected a state dict (a dict of tensors)");
  }
  if (layout) layout(u.storage_infos(), u.position());
  u.resolve_storages();
  StateDict out;
  out.set_source(source);
  // A plain state dict; or a training checkpoint wrapping it under "state_dict" / "model".
  bool has_tensor = false;
  for (const auto& [k, v] : result->dict) has_tensor |= v->kind == Kind::Tensor;
  if (!has_tensor) {
    for (const char* key : {"state_dict", "model"}) {
      for (const auto& [k, v] : result->dict) {
        if (k->kind == Kind::String && k->s == key && v->kind == Kind::Dict) {
          collect(*v, "", out, source, 0);
          return out;
        }
      }
    }
  }
  collect(*result, "", out, source, 0);
  return out;
}

std::size_t skip_pickle(std::span<const std::uint8_t> pickle, const std::string& source) {
  StorageResolver none = [&](const std::string& key, DType, std::int64_t) -> PickleStorage {
    throw FileFormatError(source + ": unexpected storage '" + key + "' in a header pickle");
  };
  Unpickler u(pickle, none, source);
  (void)u.run();
  if (!u.storage_infos().empty()) throw FileFormatError(source + ": unexpected storage in a header pickle");
  return u.position();
}

std::vector<std::string> unpickle_string_list(std::span<const std::uint8_t> pickle, const std::string& source,
                                              std::size_t* consumed) {
  StorageResolver none = [&](const std::string& key, DType, std::int64_t) -> PickleStorage {
    throw FileFormatError(source + ": unexpected storage '" + key + "' in the storage key list");
  };
  Unpickler u(pickle, none, source);
  Ref r = u.run();
  if (r->kind != Kind::List) throw FileFormatError(source + ": the storage key list is not a list");
  std::vector<std::string> out;
  for (const auto& x : r->items) {
    if (x->kind != Kind::String) throw FileFormatError(source + ": the storage key list holds a non-string");
    out.push_back(x->s);
  }
  if (consumed) *consumed = u.position();
  return out;
}

}  // namespace detail

StateDict load_state_dict_pickle(std::span<const std::uint8_t> pickle, const StorageResolver& resolve,
                                 const std::string& source) {
  return detail::unpickle_state_dict(pickle, resolve, source, nullptr);
}

}  // namespace ortformers::exporters
