// Minimal protobuf reader for the SentencePiece ModelProto (.model files).
#include "tokenizers/sentencepiece_model.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

#include "ortformers/core/error.hpp"

namespace ortformers::tokenizers {

namespace {

struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  std::string file;
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) throw FileFormatError(file + ": truncated protobuf varint");
      const unsigned char b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw FileFormatError(file + ": invalid protobuf varint");
  }
  std::string_view bytes() {
    const std::uint64_t n = varint();
    if (n > static_cast<std::uint64_t>(end - p)) throw FileFormatError(file + ": truncated protobuf field");
    std::string_view s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1:
        if (end - p < 8) throw FileFormatError(file + ": truncated protobuf");
        p += 8;
        break;
      case 2: bytes(); break;
      case 5:
        if (end - p < 4) throw FileFormatError(file + ": truncated protobuf");
        p += 4;
        break;
      default: throw FileFormatError(file + ": unsupported protobuf wire type " + std::to_string(wire));
    }
  }
};

}  // namespace

SpmModel parse_spm(const std::string& data, const std::string& file) {
  SpmModel m;
  Reader r{reinterpret_cast<const unsigned char*>(data.data()),
           reinterpret_cast<const unsigned char*>(data.data()) + data.size(), file};
  while (r.p < r.end) {
    const std::uint64_t key = r.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (field == 1 && wire == 2) {
      const std::string_view msg = r.bytes();
      Reader pr{reinterpret_cast<const unsigned char*>(msg.data()),
                reinterpret_cast<const unsigned char*>(msg.data()) + msg.size(), file};
      SpmModel::Piece piece;
      while (pr.p < pr.end) {
        const std::uint64_t k = pr.varint();
        const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
        if (f == 1 && w == 2)
          piece.piece = std::string(pr.bytes());
        else if (f == 2 && w == 5) {
          if (pr.end - pr.p < 4) throw FileFormatError(file + ": truncated piece score");
          std::uint32_t bits = pr.p[0] | (pr.p[1] << 8) | (pr.p[2] << 16) | (static_cast<std::uint32_t>(pr.p[3]) << 24);
          std::memcpy(&piece.score, &bits, 4);
          pr.p += 4;
        } else if (f == 3 && w == 0)
          piece.type = static_cast<int>(pr.varint());
        else
          pr.skip(w);
      }
      m.pieces.push_back(std::move(piece));
    } else if (field == 2 && wire == 2) {
      const std::string_view msg = r.bytes();
      Reader tr{reinterpret_cast<const unsigned char*>(msg.data()),
                reinterpret_cast<const unsigned char*>(msg.data()) + msg.size(), file};
      while (tr.p < tr.end) {
        const std::uint64_t k = tr.varint();
        const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
        if (f == 3 && w == 0)
          m.model_type = static_cast<int>(tr.varint());
        else if (f == 35 && w == 0)
          m.byte_fallback = tr.varint() != 0;
        else if (f == 44 && w == 2)
          m.unk_surface = std::string(tr.bytes());
        else
          tr.skip(w);
      }
    } else if (field == 3 && wire == 2) {
      const std::string_view msg = r.bytes();
      Reader nr{reinterpret_cast<const unsigned char*>(msg.data()),
                reinterpret_cast<const unsigned char*>(msg.data()) + msg.size(), file};
      while (nr.p < nr.end) {
        const std::uint64_t k = nr.varint();
        const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
        if (f == 2 && w == 2)
          m.charsmap = std::string(nr.bytes());
        else if (f == 3 && w == 0)
          m.add_dummy_prefix = nr.varint() != 0;
        else if (f == 4 && w == 0)
          m.remove_extra_whitespaces = nr.varint() != 0;
        else if (f == 5 && w == 0)
          m.escape_whitespaces = nr.varint() != 0;
        else
          nr.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) throw FileFormatError(file + ": no pieces in the SentencePiece model");
  return m;
}

}  // namespace ortformers::tokenizers
