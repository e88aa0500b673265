// The CSV reader (read_csv, and read_file's dispatch to it) against small files written here:
// tables with and without a header, CRLF, blank lines, spaces, every way of choosing the target
// column, and every kind of broken file, whose errors must name the file, the line, the column
// and what is wrong.
#include "typegrad/data/dataset.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using typegrad::data::Dataset;
using typegrad::data::DataError;
using typegrad::data::read_csv;
using typegrad::data::read_file;
using typegrad::data::TargetColumn;
using typegrad::data::Task;

namespace {

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
public:
    TempDir() {
        static unsigned counter = 0;
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        do {
            path_ = fs::temp_directory_path() /
                    ("typegrad_test_csv_" + std::to_string(stamp) + "_" + std::to_string(counter++));
        } while (!fs::create_directory(path_));
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("test setup: cannot write " + path.string());
}

/// read_csv of text written to dir/data.csv.
Dataset csv(const TempDir& dir, const std::string& text, const std::string& target = "last", std::size_t limit = 0) {
    write_text(dir / "data.csv", text);
    return read_csv(dir / "data.csv", TargetColumn{target}, limit);
}

/// The message read_csv throws for text ("" if it throws none).
std::string csv_error(const TempDir& dir, const std::string& text, const std::string& target = "last") {
    try {
        (void)csv(dir, text, target);
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

const std::string table = "age,sex,bmi,target\n30,1,22.5,151\n45, 0 ,31.25,75\n-2.5e1,1,0,1e3\n";

}  // namespace

TEST_CASE("read_csv reads a table with a header", "[data][csv]") {
    const TempDir dir;
    const Dataset d = csv(dir, table);
    REQUIRE(d.size() == 3);
    CHECK(d.channels == 1);
    CHECK(d.rows == 1);
    CHECK(d.cols == 3);
    CHECK(d.features == std::vector<float>{30, 1, 22.5f, 45, 0, 31.25f, -25, 1, 0});
    CHECK(d.targets == std::vector<float>{151, 75, 1000});
    CHECK(d.target_width == 1);
    CHECK(d.labels.empty());
    CHECK(d.pixels.empty());
    CHECK(d.task == Task::regression);
    CHECK(d.float_inputs());
}

TEST_CASE("read_csv: the target column by name, index, -1, first or last", "[data][csv]") {
    const TempDir dir;
    CHECK(csv(dir, table, "bmi").targets == std::vector<float>{22.5f, 31.25f, 0});
    CHECK(csv(dir, table, "bmi").features == std::vector<float>{30, 1, 151, 45, 0, 75, -25, 1, 1000});
    CHECK(csv(dir, table, "2").targets == std::vector<float>{22.5f, 31.25f, 0});
    CHECK(csv(dir, table, "-1").targets == std::vector<float>{151, 75, 1000});
    CHECK(csv(dir, table, "-4").targets == std::vector<float>{30, 45, -25});
    CHECK(csv(dir, table, "first").targets == std::vector<float>{30, 45, -25});
    CHECK(csv(dir, table, "0").targets == std::vector<float>{30, 45, -25});
    CHECK(csv(dir, table, "last").targets == std::vector<float>{151, 75, 1000});
    CHECK(csv(dir, table, "age").features == std::vector<float>{1, 22.5f, 151, 0, 31.25f, 75, 1, 0, 1000});
    // A column's name wins over the words, should a column be called "last".
    CHECK(csv(dir, "last,b\n1,2\n", "last").targets == std::vector<float>{1});
}

TEST_CASE("read_csv without a header; CRLF, blank lines, spaces, a byte order mark, no final newline", "[data][csv]") {
    const TempDir dir;
    const Dataset plain = csv(dir, "1,2,3\n4,5,6\n");
    CHECK(plain.size() == 2);
    CHECK(plain.cols == 2);
    CHECK(plain.features == std::vector<float>{1, 2, 4, 5});
    CHECK(plain.targets == std::vector<float>{3, 6});
    const Dataset messy = csv(dir, "\xef\xbb\xbf\r\n  1 ,\t2,3\r\n\r\n   \n4,5, +6\r\n\n");
    CHECK(messy.features == plain.features);
    CHECK(messy.targets == plain.targets);
    CHECK(csv(dir, "1,2,3\n4,5,6").targets == plain.targets);  // no final newline
    CHECK(csv(dir, "a,b,c\r\n1,2,3\r\n4,5,6").features == plain.features);
    CHECK(csv(dir, "1,2,3\n4,5,6\n", "first").targets == std::vector<float>{1, 4});
}

TEST_CASE("read_csv with a limit keeps the first examples and reads no further", "[data][csv]") {
    const TempDir dir;
    const Dataset two = csv(dir, table, "last", 2);
    CHECK(two.size() == 2);
    CHECK(two.targets == std::vector<float>{151, 75});
    CHECK(csv(dir, table, "last", 99).size() == 3);
    // Lines after the limit are not parsed.
    CHECK(csv(dir, "a,b\n1,2\nnot,a,row\n", "last", 1).size() == 1);
}

TEST_CASE("read_csv names the file, the line, the column and the problem", "[data][csv]") {
    const TempDir dir;
    const std::string file = (dir / "data.csv").string() + ": ";
    const auto newline = Contains("\n");

    SECTION("rows of the wrong length") {
        // 11 columns; line 7 has 9 fields.
        std::string text = "a,b,c,d,e,f,g,h,i,j,k\n";
        for (int line = 2; line <= 6; ++line) text += "1,2,3,4,5,6,7,8,9,10,11\n";
        text += "1,2,3,4,5,6,7,8,9\n";
        CHECK_THAT(csv_error(dir, text), Contains(file + "line 7 has 9 fields, expected 11") && !newline);
        CHECK_THAT(csv_error(dir, "1,2\n\n3\n"), Contains(file + "line 3 has 1 field, expected 2"));
        CHECK_THAT(csv_error(dir, "1,2\n3,4,\n"), Contains(file + "line 2 has 3 fields, expected 2"));
    }
    SECTION("fields that are not finite numbers") {
        std::string text = "age,sex,bmi,target\n";
        for (int line = 2; line <= 11; ++line) text += "1,2,3,4\n";
        text += "1,2,abc,4\n";
        CHECK_THAT(csv_error(dir, text), Contains(file + "line 12, column \"bmi\": \"abc\" is not a number"));
        CHECK_THAT(csv_error(dir, "1,2\n3,x\n"), Contains(file + "line 2, column 1 (0-based): \"x\" is not a number"));
        CHECK_THAT(csv_error(dir, "1,2\n3,\n"), Contains(file + "line 2, column 1 (0-based): \"\" is not a number"));
        CHECK_THAT(csv_error(dir, "1,,2\n"), Contains(file + "line 1, column 1 (0-based): \"\" is not a number"));
        CHECK_THAT(csv_error(dir, "a,b\n1,nan\n"), Contains(file + "line 2, column \"b\": \"nan\" is not a finite number"));
        CHECK_THAT(csv_error(dir, "a,b\n-inf,1\n"), Contains(file + "line 2, column \"a\": \"-inf\" is not a finite number"));
        CHECK_THAT(csv_error(dir, "a,b\n1e999,1\n"), Contains(file + "line 2, column \"a\": \"1e999\" is not a finite number"));
        CHECK_THAT(csv_error(dir, "a,b\n1,1e300\n"), Contains(file + "line 2, column \"b\": \"1e300\" is beyond float32's range"));
        CHECK_THAT(csv_error(dir, "a,b\n1,0x10\n"), Contains(file + "line 2, column \"b\": \"0x10\" is not a number"));
        CHECK_THAT(csv_error(dir, "a,b\n1,1.5.2\n"), Contains("\"1.5.2\" is not a number"));
        CHECK_THAT(csv_error(dir, "a,b\n1,1,5\n"), Contains(file + "line 2 has 3 fields, expected 2"));  // a decimal comma
        // Text from the file is escaped in the message.
        CHECK_THAT(csv_error(dir, "a,b\n1,\x1b[31m\n"), Contains("\"\\x1b[31m\" is not a number") && !newline);
    }
    SECTION("quoted fields, binary data") {
        CHECK_THAT(csv_error(dir, "\"age\",\"bmi\"\n1,2\n"), Contains(file + "line 1: quoted fields are not supported"));
        CHECK_THAT(csv_error(dir, "a,b\n1,2\n3,\"4\"\n"), Contains(file + "line 3: quoted fields are not supported"));
        CHECK_THAT(csv_error(dir, std::string("a,b\n1,2\x00\n", 9)), Contains(file + "line 2 holds a NUL byte: binary data, not CSV text"));
    }
    SECTION("the target column") {
        CHECK_THAT(csv_error(dir, table, "price"), Contains(file + "no column \"price\" (columns: age, sex, bmi, target)"));
        CHECK_THAT(csv_error(dir, "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,target\n" + std::string("1,2,3,4,5,6,7,8,9,10,11\n"), "price"),
                   Contains(file + "no column \"price\" (11 columns: age, sex, bmi, ..., target)"));
        CHECK_THAT(csv_error(dir, table, "Age"), Contains(file + "no column \"Age\""));  // exact names
        CHECK_THAT(csv_error(dir, table, "4"),
                   Contains(file + "target column 4 is out of range: the table has 4 columns (0..3, -4..-1, first or last)"));
        CHECK_THAT(csv_error(dir, table, "-5"), Contains(file + "target column -5 is out of range"));
        CHECK_THAT(csv_error(dir, table, "99999999999999999999999"), Contains(file + "target column 99999999999999999999999 is out of range"));
        CHECK_THAT(csv_error(dir, "1,2,3\n", "price"),
                   Contains(file + "no column \"price\": the file has no header line of column names (choose the target by its index: 0..2, -3..-1, first or last)"));
        CHECK_THAT(csv_error(dir, table, ""), Contains(file + "no column \"\""));
        CHECK_THAT(csv_error(dir, "a,a,b\n1,2,3\n", "a"), Contains(file + "the target column name \"a\" names 2 columns"));
    }
    SECTION("too few columns, no examples") {
        CHECK_THAT(csv_error(dir, "1\n2\n"), Contains(file + "has 1 column; a table needs at least 2 (the features and a target)"));
        CHECK_THAT(csv_error(dir, "a;b;c\n1;2;3\n"),
                   Contains(file + "has 1 column; a table needs at least 2") && Contains("separated by commas only"));
        CHECK_THAT(csv_error(dir, ""), Contains(file + "has no examples (an empty file)"));
        CHECK_THAT(csv_error(dir, "\n  \r\n\n"), Contains(file + "has no examples (an empty file)"));
        CHECK_THAT(csv_error(dir, "a,b,c\n"), Contains(file + "has no examples (only a header line)"));
        CHECK_THAT(csv_error(dir, "a,b,c\n\n\n"), Contains(file + "has no examples (only a header line)"));
    }
}

TEST_CASE("read_csv and read_file refuse what is not a regular file, without blocking", "[data][csv]") {
    const TempDir dir;
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    REQUIRE_THROWS_WITH(read_csv(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    REQUIRE_THROWS_WITH(read_file(fifo), fifo.string() + ": is not a regular file (a FIFO)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    REQUIRE_THROWS_WITH(read_csv("/dev/zero"), "/dev/zero: is not a regular file (a character device)");
    REQUIRE_THROWS_WITH(read_csv(dir.path()), Contains(dir.path().string() + ": is a directory"));
    REQUIRE_THROWS_WITH(read_csv(dir / "absent.csv"), (dir / "absent.csv").string() + ": no such file");
}

TEST_CASE("read_file reads CSV text by its content, whatever its name", "[data][csv]") {
    const TempDir dir;
    write_text(dir / "table.npz", table);
    const Dataset d = read_file(dir / "table.npz", TargetColumn{"sex"}, 2);
    CHECK(d.size() == 2);
    CHECK(d.targets == std::vector<float>{1, 0});
    write_text(dir / "empty", "");
    REQUIRE_THROWS_WITH(read_file(dir / "empty"), (dir / "empty").string() + ": has no examples (an empty file)");
    write_text(dir / "zip", "PK\x03");  // not quite a zip archive
    REQUIRE_THROWS_WITH(read_file(dir / "zip"), Contains("has 1 column"));
}
