using System.Globalization;

namespace WorkflowTriggers;

/// <summary>
/// A number from a trigger's config that no .NET number type holds exactly (more digits than decimal, an exponent
/// beyond double's range): kept as its JSON text, so writing the config back writes the same number.
/// </summary>
public sealed class JsonNumber : IComparable, IConvertible
{
    public JsonNumber(string text) => Text = text;

    /// <summary>The number as the JSON text wrote it.</summary>
    public string Text { get; }

    public override string ToString() => Text;

    public override bool Equals(object? obj) => obj is JsonNumber other && other.Text == Text;

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    /// <summary>The nearest double (0 or infinity where the exponent is out of its range).</summary>
    public double ToDouble() => double.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static implicit operator JsonNumber(double value) => new(value.ToString("R", CultureInfo.InvariantCulture));

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        JsonNumber other => ToDouble().CompareTo(other.ToDouble()),
        _ => ToDouble().CompareTo(Convert.ToDouble(obj, CultureInfo.InvariantCulture)),
    };

    TypeCode IConvertible.GetTypeCode() => TypeCode.Object;

    bool IConvertible.ToBoolean(IFormatProvider? provider) => ToDouble() != 0;

    byte IConvertible.ToByte(IFormatProvider? provider) => Convert.ToByte(ToDouble(), provider);

    char IConvertible.ToChar(IFormatProvider? provider) => throw new InvalidCastException();

    DateTime IConvertible.ToDateTime(IFormatProvider? provider) => throw new InvalidCastException();

    decimal IConvertible.ToDecimal(IFormatProvider? provider) => decimal.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture);

    double IConvertible.ToDouble(IFormatProvider? provider) => ToDouble();

    short IConvertible.ToInt16(IFormatProvider? provider) => Convert.ToInt16(ToDouble(), provider);

    int IConvertible.ToInt32(IFormatProvider? provider) => Convert.ToInt32(ToDouble(), provider);

    long IConvertible.ToInt64(IFormatProvider? provider) => Convert.ToInt64(ToDouble(), provider);

    sbyte IConvertible.ToSByte(IFormatProvider? provider) => Convert.ToSByte(ToDouble(), provider);

    float IConvertible.ToSingle(IFormatProvider? provider) => (float)ToDouble();

    string IConvertible.ToString(IFormatProvider? provider) => Text;

    object IConvertible.ToType(Type conversionType, IFormatProvider? provider) => Convert.ChangeType(ToDouble(), conversionType, provider);

    ushort IConvertible.ToUInt16(IFormatProvider? provider) => Convert.ToUInt16(ToDouble(), provider);

    uint IConvertible.ToUInt32(IFormatProvider? provider) => Convert.ToUInt32(ToDouble(), provider);

    ulong IConvertible.ToUInt64(IFormatProvider? provider) => Convert.ToUInt64(ToDouble(), provider);
}
