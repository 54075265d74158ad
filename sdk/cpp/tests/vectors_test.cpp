// The golden vectors shared with the Go node (pack/testdata/vectors.json):
// every valid vector encodes bit-exact and decodes back, every decode-only
// body decodes, every invalid frame yields its error; each also fed split at
// every byte boundary. Protobuf vectors are registered only when the SDK is
// built with PLEX_PROTOBUF (a skipped test per vector would fill ctest's log
// with ***Skipped lines); VectorsFile.ProtobufVectorsNeedTheCodec says how
// many are left out.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "test_util.hpp"

namespace plex {
namespace {

using test::decode_stream;
using test::hex;
using test::unhex;

struct Vector {
    std::string kind; // valid, decode_only, invalid
    std::string name;
    Order order = Order::big;
    Codec codec = Codec::json;
    std::uint32_t limit = 0;
    Message message;
    std::string frame;
    std::string error;
};

void PrintTo(const Vector& v, std::ostream* os) { *os << v.kind << "/" << v.name; }

std::string gtest_name(std::string s) {
    for (auto& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

// Loaded once; a missing or unreadable file is reported by VectorsFile.Loads.
const std::vector<Vector>& vectors() {
    static const std::vector<Vector> all = [] {
        std::vector<Vector> out;
        std::ifstream in(PLEX_VECTORS_FILE);
        if (!in) return out;
        auto j = nlohmann::json::parse(in, nullptr, false);
        if (!j.is_object() || j.value("version", 0) != 1) return out; // VectorsFile.Loads says why
        for (const char* kind : {"valid", "decode_only", "invalid"}) {
            if (!j.contains(kind)) continue;
            for (const auto& v : j[kind]) {
                Vector x;
                x.kind = kind;
                x.name = v.at("name").get<std::string>();
                x.order = v.at("order") == "little" ? Order::little : Order::big;
                x.codec = v.at("codec") == "protobuf" ? Codec::protobuf : Codec::json;
                x.limit = v.value("limit", 0u);
                x.frame = unhex(v.at("frame_hex").get<std::string>());
                if (v.contains("message")) {
                    const auto& m = v["message"];
                    x.message.seq = m.value("seq", std::int64_t(0));
                    x.message.uri = m.value("uri", std::string());
                    x.message.body = unhex(m.value("body_hex", std::string()));
                    if (m.contains("meta") && m["meta"].is_object())
                        for (auto& [k, val] : m["meta"].items()) x.message.meta[k] = val.get<std::string>();
                }
                x.error = v.value("error", std::string());
                out.push_back(std::move(x));
            }
        }
        return out;
    }();
    return all;
}

std::vector<Vector> of_kind(const char* kind) {
    std::vector<Vector> out;
    for (const auto& v : vectors())
        if (v.kind == kind) out.push_back(v);
    return out;
}

const std::map<std::string, errc> error_names = {
    {"frame_too_large", errc::frame_too_large}, {"truncated", errc::truncated},
    {"bad_json", errc::bad_json},               {"wrong_type", errc::wrong_type},
    {"invalid_utf8", errc::invalid_utf8},       {"bad_protobuf", errc::bad_protobuf},
    {"empty_body", errc::empty_body},
};

// The vectors of kind that this build can run: not the protobuf ones
// without the codec.
std::vector<Vector> runnable(const char* kind) {
    std::vector<Vector> out;
    for (const auto& v : of_kind(kind))
        if (v.codec != Codec::protobuf || protobuf_available()) out.push_back(v);
    return out;
}

std::uint32_t limit_of(const Vector& v) { return v.limit ? v.limit : default_limit; }

// Every way of splitting the frame in two, every pair of split points for
// short frames (as pack's tests do), and byte by byte.
std::vector<std::vector<std::string>> splits(const std::string& f) {
    std::vector<std::vector<std::string>> out;
    for (std::size_t i = 0; i <= f.size(); ++i) out.push_back({f.substr(0, i), f.substr(i)});
    if (f.size() <= 32) {
        for (std::size_t i = 1; i < f.size(); ++i)
            for (std::size_t j = i + 1; j < f.size(); ++j)
                out.push_back({f.substr(0, i), f.substr(i, j - i), f.substr(j)});
    }
    std::vector<std::string> bytes;
    for (char c : f) bytes.emplace_back(1, c);
    out.push_back(bytes);
    return out;
}

TEST(VectorsFile, Loads) {
    std::ifstream in(PLEX_VECTORS_FILE);
    ASSERT_TRUE(in) << "cannot read the golden vectors at " << PLEX_VECTORS_FILE
                    << " (set -DPLEX_VECTORS_FILE=...)";
    auto j = nlohmann::json::parse(in, nullptr, false);
    ASSERT_TRUE(j.is_object()) << PLEX_VECTORS_FILE << " is not a JSON object";
    ASSERT_EQ(j.value("version", 0), 1) << "only version 1 of the vectors format is understood";
    EXPECT_FALSE(of_kind("valid").empty());
    EXPECT_FALSE(of_kind("invalid").empty());
    for (const auto& v : of_kind("invalid"))
        EXPECT_TRUE(error_names.count(v.error)) << v.name << ": unknown error name " << v.error;
}

TEST(VectorsFile, ProtobufVectorsNeedTheCodec) {
    std::size_t n = 0;
    for (const auto& v : vectors()) n += v.codec == Codec::protobuf;
    EXPECT_GT(n, 0u) << "the vectors have protobuf cases";
    if (!protobuf_available())
        std::cout << n << " protobuf vectors not registered: SDK built without PLEX_PROTOBUF\n";
}

class ValidVector : public ::testing::TestWithParam<Vector> {};

TEST_P(ValidVector, EncodesAndDecodesBitExact) {
    const Vector& v = GetParam();
    std::string got;
    ASSERT_FALSE(append_frame(got, v.order, v.codec, v.message));
    EXPECT_EQ(hex(got), hex(v.frame)) << "encode: got frame, want frame_hex";

    std::string prefixed = "prefix";
    ASSERT_FALSE(append_frame(prefixed, v.order, v.codec, v.message));
    EXPECT_EQ(prefixed, "prefix" + v.frame) << "append_frame after a prefix";

    for (const auto& chunks : splits(v.frame)) {
        auto res = decode_stream(v.order, v.codec, limit_of(v), chunks);
        ASSERT_FALSE(res.err) << "decode split into " << chunks.size() << " chunks: " << res.err.message();
        ASSERT_EQ(res.msgs.size(), 1u);
        EXPECT_EQ(res.msgs[0], v.message) << "decode: got message, want message";
    }
    if (v.limit > 0) {
        auto res = decode_stream(v.order, v.codec, v.limit - 1, {v.frame});
        EXPECT_EQ(res.err, errc::frame_too_large) << "one byte under the vector's limit";
    }
}

class DecodeOnlyVector : public ::testing::TestWithParam<Vector> {};

TEST_P(DecodeOnlyVector, Decodes) {
    const Vector& v = GetParam();
    for (const auto& chunks : splits(v.frame)) {
        auto res = decode_stream(v.order, v.codec, limit_of(v), chunks);
        ASSERT_FALSE(res.err) << res.err.message();
        ASSERT_EQ(res.msgs.size(), 1u);
        EXPECT_EQ(res.msgs[0], v.message);
    }
}

class InvalidVector : public ::testing::TestWithParam<Vector> {};

TEST_P(InvalidVector, FailsWithItsError) {
    const Vector& v = GetParam();
    auto want = error_names.at(v.error);
    for (const auto& chunks : splits(v.frame)) {
        auto res = decode_stream(v.order, v.codec, v.limit, chunks);
        ASSERT_EQ(res.err, want) << "split into " << chunks.size() << " chunks: got " << res.err.message()
                                 << ", want " << v.error;
    }
}

auto name_of = [](const ::testing::TestParamInfo<Vector>& i) { return gtest_name(i.param.name); };

INSTANTIATE_TEST_SUITE_P(Golden, ValidVector, ::testing::ValuesIn(runnable("valid")), name_of);
INSTANTIATE_TEST_SUITE_P(Golden, DecodeOnlyVector, ::testing::ValuesIn(runnable("decode_only")), name_of);
INSTANTIATE_TEST_SUITE_P(Golden, InvalidVector, ::testing::ValuesIn(runnable("invalid")), name_of);

} // namespace
} // namespace plex
