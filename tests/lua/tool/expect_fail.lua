-- Two failed expectations and one that holds; the script runs to its end.
expect(1 + 1 == 3, "arithmetic")
expect_eq(2 + 2, 5, "the sum")
expect_eq({1, 2}, {1, 2}, "tables compare by content")
print("reached the end")
