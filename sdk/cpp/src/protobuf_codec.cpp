// The protobuf codec over the code protoc generates from pack/plex.proto.
// Built only with PLEX_PROTOBUF=ON; otherwise the stubs at the end report
// errc::protobuf_unavailable.
#include "protobuf_codec.hpp"

#include "plex/codec.hpp"
#include "plex/errc.hpp"

#ifdef PLEX_HAVE_PROTOBUF
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "plex.pb.h"
#endif

namespace plex::detail {

#ifdef PLEX_HAVE_PROTOBUF

bool protobuf_built_in() noexcept { return true; }

std::error_code protobuf_encode(const Message& m, std::string& out) {
    // The Go node refuses to encode strings that are not UTF-8; libprotobuf
    // would only log and send them.
    if (!valid_utf8(m.uri)) return errc::invalid_utf8;
    for (const auto& [k, v] : m.meta) {
        if (!valid_utf8(k) || !valid_utf8(v)) return errc::invalid_utf8;
    }
    plex::v1::Message pb;
    pb.set_seq(m.seq);
    pb.set_uri(m.uri);
    pb.set_body(m.body);
    auto* meta = pb.mutable_meta();
    for (const auto& [k, v] : m.meta) (*meta)[k] = v;
    const std::size_t start = out.size();
    {
        google::protobuf::io::StringOutputStream sos(&out);
        google::protobuf::io::CodedOutputStream cos(&sos);
        // Map entries sorted by key: byte-identical with the Go node.
        cos.SetSerializationDeterministic(true);
        if (!pb.SerializeToCodedStream(&cos)) {
            out.resize(start);
            return errc::bad_protobuf;
        }
    }
    return {};
}

std::error_code protobuf_decode(std::string_view body, Message& m) {
    m = Message{};
    if (auto ec = protobuf_validate(body)) return ec;
    if (body.size() > 0x7FFFFFFF) return errc::bad_protobuf; // libprotobuf's int sizes
    plex::v1::Message pb;
    if (!pb.ParseFromArray(body.data(), static_cast<int>(body.size()))) return errc::bad_protobuf;
    m.seq = pb.seq();
    m.uri = pb.uri();
    m.body = pb.body();
    for (const auto& [k, v] : pb.meta()) m.meta.emplace(k, v);
    return {};
}

#else

bool protobuf_built_in() noexcept { return false; }
std::error_code protobuf_encode(const Message&, std::string&) { return errc::protobuf_unavailable; }
std::error_code protobuf_decode(std::string_view, Message&) { return errc::protobuf_unavailable; }

#endif

} // namespace plex::detail
